import {randomUUID} from 'node:crypto'
import {chmodSync, mkdtempSync, readFileSync} from 'node:fs'

import amqp from 'amqplib'
import pg from 'pg'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {eventually, http} from '../support/poll.js'
import {json, mm} from './cli.js'

// Under /tmp so the postgres user can reach the data directory.
const cwd = mkdtempSync('/tmp/mm-e2e-scenarios-')
chmodSync(cwd, 0o755)

interface Servers {
  postgres: string
  rabbitmq: string
}
const servers = (): Servers => {
  const s = JSON.parse(readFileSync(`${cwd}/.mm/state.json`, 'utf8')) as {servers: Record<string, {url: string}>}
  return {postgres: s.servers.postgres!.url, rabbitmq: s.servers.rabbitmq!.url}
}

let api = ''
/** JSON over HTTP against the platform's gateway (test/support/poll.ts). */
const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => http(api, method, path, body, headers)

/** The platform from outside: `mm up` with every component, driven through its HTTP API and CLI. */
describe('scenarios against mm up', () => {
  beforeAll(async () => {
    // Every trace recorded (the default samples one in ten): the tracing tests follow particular orders.
    const r = await mm(['up', '--infra', 'native', '-d', '--http-port', '0', '--json'], {cwd, env: {MM_TRACE_SAMPLE: '1'}})
    expect(r.exitCode, r.stderr).toBe(0)
    api = json<{endpoints: {name: string; url: string}[]}>(r).endpoints.find((e) => e.name === 'gateway')!.url
  })
  afterAll(async () => {
    await mm(['down', '-v'], {cwd})
  })

  it('status --json shows the five runners ready', async () => {
    const r = await mm(['status', '--json'], {cwd})
    expect(r.exitCode, r.stdout).toBe(0)
    const s = json<{runners: {name: string; state: string}[]}>(r)
    expect(s.runners.map((x) => [x.name, x.state])).toEqual(['customer', 'product', 'order', 'query', 'ingest'].map((n) => [n, 'ready']))
  })

  it('an order goes from creation to PAID in the read model, with customer and product names', async () => {
    const customer = await call('POST', '/customers', {name: 'Ana Souza', email: `ana.${randomUUID()}@example.test`})
    expect(customer.status).toBe(201)
    const product = await call('POST', '/products', {sku: `SKU-${randomUUID().slice(0, 8)}`, name: 'Lamp', price_cents: 1250, stock: 5})
    expect(product.status).toBe(201)
    const order = await call('POST', '/orders', {customer_id: customer.body.id, items: [{product_id: product.body.id, quantity: 2}]})
    expect(order.status).toBe(201)
    expect(order.body).toMatchObject({status: 'PENDING', total_cents: 2500, items: [{product_id: product.body.id, quantity: 2, unit_price_cents: 1250}]})
    await eventually(async () => ((await call('GET', `/orders/${order.body.id}`)).body.status === 'RESERVED' ? true : undefined), {
      what: 'RESERVED',
      timeoutMs: 30_000,
    })
    expect((await call('POST', `/orders/${order.body.id}/pay`)).status).toBe(200)
    const view = await eventually(
      async () => {
        const v = await call('GET', `/q/orders/${order.body.id}`)
        return v.status === 200 && v.body.status === 'PAID' ? v.body : undefined
      },
      {what: 'PAID in the read model', timeoutMs: 30_000},
    )
    expect(view.customer).toEqual({id: customer.body.id, name: 'Ana Souza', email: customer.body.email})
    expect(view.items[0]).toMatchObject({sku: product.body.sku, name: 'Lamp', quantity: 2})
    expect(view.paid_at).toBeTruthy()
    // The customer counter, through the cache (deleted on every change).
    const c = await eventually(
      async () => {
        const r = await call('GET', `/customers/${customer.body.id}`)
        return r.body.orders_count === 1 ? r.body : undefined
      },
      {what: 'orders_count 1', timeoutMs: 30_000},
    )
    expect(c.orders_count).toBe(1)
    expect((await call('GET', `/products/${product.body.id}`)).body.stock).toBe(3)
    // A transition not allowed names the current status.
    const again = await call('POST', `/orders/${order.body.id}/cancel`, {})
    expect(again.status).toBe(409)
    expect(again.body.error.message).toContain('PAID')
  })

  it('an out-of-stock order ends CANCELED in both models and leaves stock untouched', async () => {
    const customer = await call('POST', '/customers', {name: 'Bruno', email: `bruno.${randomUUID()}@example.test`})
    const product = await call('POST', '/products', {sku: `SKU-${randomUUID().slice(0, 8)}`, name: 'Rare', price_cents: 100, stock: 1})
    const order = await call('POST', '/orders', {customer_id: customer.body.id, items: [{product_id: product.body.id, quantity: 2}]})
    expect(order.status).toBe(201)
    await eventually(async () => ((await call('GET', `/orders/${order.body.id}`)).body.status === 'CANCELED' ? true : undefined), {
      what: 'CANCELED',
      timeoutMs: 30_000,
    })
    await eventually(async () => ((await call('GET', `/q/orders/${order.body.id}`)).body?.status === 'CANCELED' ? true : undefined), {
      what: 'CANCELED in the read model',
      timeoutMs: 30_000,
    })
    expect((await call('GET', `/products/${product.body.id}`)).body.stock).toBe(1)
  })

  it('baskets add up, check out into an order and empty', async () => {
    const customer = await call('POST', '/customers', {name: 'Carla', email: `carla.${randomUUID()}@example.test`})
    const product = await call('POST', '/products', {sku: `SKU-${randomUUID().slice(0, 8)}`, name: 'Mug', price_cents: 700, stock: 10})
    const path = `/baskets/${customer.body.id}/items`
    expect((await call('PUT', path, {product_id: product.body.id, quantity: 1})).status).toBe(200)
    expect((await call('PUT', path, {product_id: product.body.id, quantity: 2})).status).toBe(200)
    const basket = await call('GET', `/baskets/${customer.body.id}`)
    expect(basket.body.items).toEqual([expect.objectContaining({product_id: product.body.id, quantity: 3})])
    const checkout = await call('POST', `/baskets/${customer.body.id}/checkout`)
    expect(checkout.status).toBe(201)
    expect(checkout.body).toMatchObject({status: 'PENDING', total_cents: 2100})
    expect((await call('GET', `/baskets/${customer.body.id}`)).body.items).toEqual([])
  })

  it('bad input gets a JSON error naming what was wrong, never a stack trace', async () => {
    const unknown = await call('POST', '/orders', {customer_id: randomUUID(), items: [{product_id: randomUUID(), quantity: 1}]})
    expect(unknown.status).toBe(422)
    expect(unknown.body.error.code).toBeTruthy()
    const zero = await call('POST', '/orders', {customer_id: randomUUID(), items: [{product_id: randomUUID(), quantity: 0}]})
    expect(zero.status).toBe(400)
    expect(JSON.stringify(zero.body)).toMatch(/quantity/)
    const empty = await call('POST', '/orders', {customer_id: randomUUID(), items: []})
    expect(empty.status).toBe(400)
    const res = await fetch(`${api}/customers`, {method: 'POST', headers: {'content-type': 'application/json'}, body: '{not json'})
    expect(res.status).toBe(400)
    const text = await res.text()
    expect(JSON.parse(text).error.message).toBeTruthy()
    expect(text).not.toMatch(/\bat \S+ \(/)
    expect((await call('GET', '/customers/not-a-uuid')).status).toBe(404)
  })

  it('pulses from an independent client, flushed with mm flush, total exactly what that client sent', async () => {
    const conn = await amqp.connect(servers().rabbitmq)
    const ch = await conn.createConfirmChannel()
    const tenant = `tenant:${randomUUID().slice(0, 6)} ünï`
    const oracle = new Map<string, bigint>() // micro-units
    for (let i = 0; i < 300; i++) {
      const unit = i % 2 ? 'req' : 'gb:h'
      const micro = BigInt(1 + ((i * 7919) % 999_999))
      const amount = `${micro / 1_000_000n}.${String(micro % 1_000_000n).padStart(6, '0')}`
      ch.sendToQueue('pulses', Buffer.from(`{"tenant":${JSON.stringify(tenant)},"product_sku":"S1","use_unity":"${unit}","used_amount":${amount}}`), {
        messageId: randomUUID(),
      })
      oracle.set(unit, (oracle.get(unit) ?? 0n) + micro)
    }
    ch.sendToQueue('pulses', Buffer.from('{"tenant":"x"}'), {messageId: randomUUID()}) // invalid: to the DLQ
    await ch.waitForConfirms()
    await conn.close()

    const client = new pg.Client({connectionString: servers().postgres})
    await client.connect()
    try {
      await eventually(
        async () => {
          // With no gateway answering (nothing listens on port 9), mm flush does the flush itself.
          const r = await mm(['flush', '--json'], {cwd, env: {MM_API_URL: 'http://127.0.0.1:9'}})
          expect(r.exitCode, r.stderr).toBe(0)
          expect(json<{by: string}>(r).by).toBe('cli')
          const {rows} = await client.query<{use_unity: string; used_amount: string}>(
            'SELECT use_unity, used_amount::text FROM ingest.pulses WHERE tenant = $1',
            [tenant],
          )
          const got = new Map(rows.map((row) => [row.use_unity, row.used_amount]))
          const want = [...oracle].map(([u, micro]) => [u, `${micro / 1_000_000n}.${String(micro % 1_000_000n).padStart(6, '0')}`] as const)
          return want.every(([u, v]) => got.has(u) && normalise(got.get(u)!) === normalise(v)) ? true : undefined
        },
        {what: 'all pulses flushed', timeoutMs: 60_000},
      )
    } finally {
      await client.end()
    }
  })

  it('mm seed is deterministic and idempotent', async () => {
    const first = await mm(['seed', '--customers', '5', '--products', '7', '--json'], {cwd})
    expect(first.exitCode, first.stderr).toBe(0)
    const a = json<{customers: {created: number; found: number}; products: {created: number; found: number}}>(first)
    expect(a.customers.created + a.customers.found).toBe(5)
    expect(a.products.created + a.products.found).toBe(7)
    const second = json(await mm(['seed', '--customers', '5', '--products', '7', '--json'], {cwd}))
    expect(second).toEqual({customers: {created: 0, found: 5, reset: 0}, products: {created: 0, found: 7, reset: 0}})
  })

  it('mm load pulses: its totals are exactly what mm flush adds; its invalid pulses reach pulses.dlq and come back there after a replay', async () => {
    const dlqCount = async () =>
      json<{dlqs: {name: string; messages: number}[]}>(await mm(['dlq', 'list', '--json'], {cwd})).dlqs.find((d) => d.name === 'pulses.dlq')!.messages
    const flushed = await mm(['flush', '--json'], {cwd}) // nothing pending from earlier tests
    expect(flushed.exitCode, flushed.stderr).toBe(0)
    expect(json<{by: string}>(flushed).by).toBe('runner') // the running ingest runner flushed, warm
    const client = new pg.Client({connectionString: servers().postgres})
    await client.connect()
    const stored = async () =>
      new Map(
        (
          await client.query<{k: string; v: string}>(
            "SELECT tenant || '|' || product_sku || '|' || use_unity AS k, used_amount::text AS v FROM ingest.pulses WHERE tenant LIKE 'tenant-%'",
          )
        ).rows.map((r) => [r.k, r.v]),
      )
    try {
      const before = await stored()
      const dlqBefore = await dlqCount()
      const r = await mm(
        ['load', 'pulses', '--total', '400', '--rate', '400', '--tenants', '3', '--skus', '4', '--invalid-ratio', '0.05', '--seed', '7', '--json'],
        {cwd},
      )
      expect(r.exitCode, r.stderr).toBe(0)
      const load = json<{
        published: number
        valid: number
        invalid: number
        totals: {tenant: string; product_sku: string; use_unity: string; used_amount: string}[]
      }>(r)
      expect(load.published).toBe(400)
      expect(load.invalid).toBeGreaterThan(0)
      expect(load.valid + load.invalid).toBe(400)
      // The invalid ones are dead-lettered, none lost.
      await eventually(async () => ((await dlqCount()) === dlqBefore + load.invalid ? true : undefined), {
        what: 'invalid pulses in pulses.dlq',
        timeoutMs: 60_000,
      })
      // Every valid one counted: after a flush each key grew by exactly what the load reported.
      await eventually(
        async () => {
          expect((await mm(['flush', '--json'], {cwd})).exitCode).toBe(0)
          const after = await stored()
          return load.totals.every((t) => {
            const k = `${t.tenant}|${t.product_sku}|${t.use_unity}`
            return toMicro(after.get(k) ?? '0') - toMicro(before.get(k) ?? '0') === toMicro(t.used_amount)
          })
            ? true
            : undefined
        },
        {what: 'totals flushed', timeoutMs: 60_000},
      )
      // Replayed, they fail again and land back in the DLQ: the count comes back, nothing lost.
      const all = await dlqCount()
      const replay = await mm(['dlq', 'replay', 'pulses.dlq', '--yes', '--json'], {cwd})
      expect(replay.exitCode, replay.stderr).toBe(0)
      expect(json<{replayed: number}>(replay).replayed).toBe(all)
      await eventually(async () => ((await dlqCount()) === all ? true : undefined), {what: 'dead letters back in the DLQ', timeoutMs: 60_000})
    } finally {
      await client.end()
    }
  })

  it('mm load orders exits 5 when a threshold is broken, and prints plain progress without a terminal', async () => {
    const r = await mm(['load', 'orders', '--total', '20', '--rate', '20', '--threshold', 'p50<1ms', '--json'], {cwd, timeoutMs: 120_000})
    expect(r.exitCode, r.stderr).toBe(5)
    const s = json<{thresholds: {expr: string; ok: boolean; actual: number}[]}>(r)
    expect(s.thresholds).toEqual([expect.objectContaining({expr: 'p50<1ms', ok: false})])
    expect(r.stderr).not.toContain('\u001B[') // no redrawing escapes when not a terminal
    const bad = await mm(['load', 'orders', '--threshold', 'p99 under 2'], {cwd})
    expect(bad.exitCode).toBe(2)
    expect(bad.stderr).toMatch(/threshold/)
  })

  it('mm load orders --total 200 --json reports percentiles', async () => {
    const r = await mm(['load', 'orders', '--total', '200', '--rate', '50', '--json', '--threshold', 'errors<50%'], {cwd, timeoutMs: 300_000})
    expect([0, 5]).toContain(r.exitCode)
    const s = json<{
      requested: number
      completed: number
      latencyMs: Record<string, number>
      readModelLagMs: Record<string, number>
      completedPerSecond: number[]
      slowest: {orderId: string; ms: number; traceIds: string[]}[]
      thresholds: {ok: boolean}[]
    }>(r)
    expect(s.requested).toBe(200)
    // Exemplars: the slowest orders, with the traces mm load started for their create and pay requests.
    expect(s.slowest.length).toBe(Math.min(5, s.completed))
    expect(s.slowest[0]!.ms).toBe(s.latencyMs.max)
    const exemplar = await eventually(
      async () => {
        const t = await mm(['trace', s.slowest[0]!.traceIds[0]!, '--json'], {cwd})
        return t.exitCode === 0 ? json<{aggregateId: string; traces: {traceId: string}[]}>(t) : undefined
      },
      {what: 'the slowest order trace', timeoutMs: 15_000},
    )
    expect(exemplar.aggregateId).toBe(s.slowest[0]!.orderId)
    expect(exemplar.traces.map((t) => t.traceId)).toEqual([s.slowest[0]!.traceIds[0]])
    expect(s.completed).toBeGreaterThan(0)
    for (const p of ['p50', 'p90', 'p99', 'max']) expect(s.latencyMs[p]).toBeGreaterThan(0)
    expect(s.latencyMs.p50).toBeLessThanOrEqual(s.latencyMs.p99!)
    // The read model's lag is part of each order's latency; the timeline adds up to the completed orders.
    expect(s.readModelLagMs.p50).toBeGreaterThan(0)
    expect(s.readModelLagMs.p50).toBeLessThanOrEqual(s.latencyMs.p50!)
    expect(s.completedPerSecond.reduce((a, b) => a + b, 0)).toBe(s.completed)
  })

  describe('tracing against mm up', () => {
    type Span = {
      spanId: string
      parentId: string | null
      component: string | null
      name: string
      kind: string
      error: string | null
      attributes: Record<string, unknown>
    }
    type Traced = {
      aggregateId: string
      traces: {traceId: string; spans: Span[]; components: string[]; failed: boolean}[]
      waiting: unknown[]
      versions?: {writeModel: number; readModel: number}
    }
    const trace = async (id: string, want: (t: Traced) => boolean): Promise<Traced> =>
      eventually(
        async () => {
          const r = await mm(['trace', id, '--json'], {cwd})
          if (r.exitCode !== 0) return undefined
          const t = json<Traced>(r)
          return want(t) ? t : undefined
        },
        {what: `the trace of ${id}`, timeoutMs: 30_000, intervalMs: 500},
      )
    /** The consumer spans that processed what `publish` published, by consumer group. */
    const consumersOf = (spans: Span[], publish: Span) =>
      spans.filter((s) => s.parentId === publish.spanId && s.kind === 'consumer').map((s) => s.attributes['messaging.consumer.group.name'])

    it('mm trace <order-id> --json: one trace from POST /orders through Kafka to product, order and query; another for the payment', async () => {
      const customer = await call('POST', '/customers', {name: 'Tracy', email: `tracy.${randomUUID()}@example.test`})
      const product = await call('POST', '/products', {sku: `SKU-${randomUUID().slice(0, 8)}`, name: 'Lantern', price_cents: 900, stock: 3})
      const order = await call('POST', '/orders', {customer_id: customer.body.id, items: [{product_id: product.body.id, quantity: 1}]})
      expect(order.status).toBe(201)
      const id = order.body.id as string
      await eventually(async () => ((await call('GET', `/orders/${id}`)).body.status === 'RESERVED' ? true : undefined), {what: 'RESERVED', timeoutMs: 30_000})
      expect((await call('POST', `/orders/${id}/pay`)).status).toBe(200)
      await eventually(async () => ((await call('GET', `/q/orders/${id}`)).body?.status === 'PAID' ? true : undefined), {what: 'PAID', timeoutMs: 30_000})

      // Spans reach the store within a second; the payment's projection is the last of them.
      const t = await trace(id, (x) => x.traces.length >= 2 && x.waiting.length === 0 && x.traces[1]!.spans.some((s) => s.name === 'process order.paid'))
      expect(t.aggregateId).toBe(id)
      expect(t.versions).toEqual({writeModel: 3, readModel: 3})
      const [created, paid] = t.traces
      const spans = created!.spans
      expect(spans[0]).toMatchObject({name: 'POST /orders', kind: 'server', component: 'order', parentId: null})
      expect(created!.components).toEqual(expect.arrayContaining(['order', 'product', 'query']))
      // Kafka hops: order publishes order.created from its outbox; product and query each process it
      // as a child of that publish; product's stock.reserved comes back to order; order.reserved to query.
      const publishOf = (name: string) => spans.find((s) => s.kind === 'producer' && s.name === `publish ${name}`)!
      expect(consumersOf(spans, publishOf('order.created')).sort()).toEqual(['product', 'query'])
      expect(consumersOf(spans, publishOf('stock.reserved'))).toEqual(['order'])
      expect(consumersOf(spans, publishOf('order.reserved'))).toEqual(['query'])
      expect(publishOf('order.created').attributes['mm.outbox.wait_ms']).toEqual(expect.any(Number))
      expect(spans.find((s) => s.name === 'process order.created' && s.component === 'product')!.attributes['mm.broker.wait_ms']).toEqual(expect.any(Number))
      // Database calls are in the trace too, under the hop that made them.
      expect(spans.some((s) => s.kind === 'client' && /^pg\.query/.test(s.name))).toBe(true)
      expect(spans.some((s) => s.kind === 'client' && s.attributes['db.system.name'] === 'mongodb')).toBe(true)
      expect(created!.failed).toBe(false)
      expect(paid!.spans[0]).toMatchObject({name: 'POST /orders/:id/pay', kind: 'server'})
      expect(paid!.spans.filter((s) => s.kind === 'consumer').map((s) => s.name)).toContain('process order.paid')

      // The waterfall a person reads, and the listing of slow traces.
      const text = await mm(['trace', id], {cwd, env: {COLUMNS: '200'}})
      expect(text.exitCode, text.stderr).toBe(0)
      expect(text.stdout).toMatch(/POST \/orders\s/)
      expect(text.stdout).toMatch(/publish order\.created .* in outbox/)
      expect(text.stdout).toMatch(/process order\.created .* in broker/)
      expect(text.stdout).toContain('nothing pending')
      const slowest = await mm(['trace', '--slowest', '1000', '--json'], {cwd})
      expect(slowest.exitCode, slowest.stderr).toBe(0)
      expect(json<{traces: {traceId: string}[]}>(slowest).traces.map((x) => x.traceId)).toContain(created!.traceId)
    })

    it('a dead letter keeps its trace: mm dlq show prints the trace id, mm trace marks the failure', async () => {
      const env = json<{variables: Record<string, string>}>(await mm(['env', '--json', '--reveal'], {cwd})).variables
      const {Kafka, logLevel} = await import('kafkajs')
      const kafka = new Kafka({clientId: 'e2e-trace', brokers: env.MM_KAFKA_BROKERS!.split(','), logLevel: logLevel.NOTHING})
      const producer = kafka.producer()
      await producer.connect()
      const traceId = randomUUID().replaceAll('-', '')
      const key = `poison-${randomUUID()}`
      try {
        // Not JSON: a poison message, dead-lettered at once by each group reading order.created.
        await producer.send({topic: 'order.created', messages: [{key, value: 'not json', headers: {traceparent: `00-${traceId}-${'1'.repeat(16)}-01`}}]})
      } finally {
        await producer.disconnect()
      }
      const shown = await eventually(
        async () => {
          const r = await mm(['dlq', 'show', 'order.created.dlq', '-n', '1000', '--json'], {cwd})
          const items = json<{items: {key: string; traceId: string | null}[]}>(r).items.filter((m) => m.key === key)
          return items.length === 2 ? items : undefined
        },
        {what: 'the poison message in order.created.dlq', timeoutMs: 30_000},
      )
      expect(shown.map((m) => m.traceId)).toEqual([traceId, traceId])
      const text = await mm(['dlq', 'show', 'order.created.dlq', '-n', '1000'], {cwd})
      expect(text.stdout).toContain(`trace    ${traceId}`)

      const t = await trace(traceId, (x) => x.traces[0]!.spans.filter((s) => s.name === 'dead-letter order.created').length === 2)
      const spans = t.traces[0]!.spans
      expect(t.traces[0]!.failed).toBe(true)
      expect(spans.filter((s) => s.name === 'process order.created').every((s) => s.error?.includes('not JSON'))).toBe(true)
      const waterfall = await mm(['trace', traceId], {cwd, env: {COLUMNS: '200'}})
      expect(waterfall.stdout).toMatch(/✗ first error: .*not JSON/)
      expect(waterfall.stdout).toMatch(/went to order\.created\.dlq/)
      await mm(['dlq', 'purge', 'order.created.dlq', '--yes'], {cwd})
    })

    it('mm trace answers bad questions clearly', async () => {
      const none = await mm(['trace', 'no-such-order'], {cwd})
      expect(none.exitCode).toBe(1)
      expect(none.stderr).toContain('no trace of no-such-order')
      const neither = await mm(['trace'], {cwd})
      expect(neither.exitCode).toBe(2)
      const both = await mm(['trace', 'x', '--slowest', '3'], {cwd})
      expect(both.exitCode).toBe(2)
    })
  })

  // Last: a second supervisor on the same servers shares their consumer groups while it runs.
  it('mm up --infra external -d in another folder runs runners on servers it did not start; mm down there stops only those', async () => {
    const vars = json<{variables: Record<string, string>}>(await mm(['env', '--json', '--reveal'], {cwd})).variables
    const urls = Object.fromEntries(
      ['MM_POSTGRES_URL', 'MM_REDIS_URL', 'MM_RABBITMQ_URL', 'MM_RABBITMQ_MANAGEMENT_URL', 'MM_KAFKA_BROKERS', 'MM_MONGODB_URL'].map((k) => [k, vars[k]!]),
    )
    const other = mkdtempSync('/tmp/mm-e2e-external-')
    const up = await mm(['up', 'customer', '--infra', 'external', '-d', '--http-port', '0', '--json'], {cwd: other, env: urls})
    expect(up.exitCode, up.stderr).toBe(0)
    const gateway = json<{endpoints: {name: string; url: string}[]}>(up).endpoints.find((e) => e.name === 'gateway')!.url
    try {
      const status = await mm(['status', '--json'], {cwd: other, env: urls})
      expect(status.exitCode, status.stdout).toBe(0)
      expect(json<{runners: {name: string; state: string}[]}>(status).runners.map((r) => [r.name, r.state])).toEqual([['customer', 'ready']])
      // Written through the external folder's runner, projected by the first platform's query runner.
      const email = `ext.${randomUUID()}@example.test`
      const created = await http(gateway, 'POST', '/customers', {name: 'Elsewhere', email})
      expect(created.status).toBe(201)
      await eventually(
        async () => ((await call('GET', '/q/customers?limit=1000')).body.items as {email: string}[]).some((c) => c.email === email) || undefined,
        {what: 'the customer in the first platform read model', timeoutMs: 30_000},
      )
    } finally {
      const down = await mm(['down'], {cwd: other, env: urls})
      expect(down.exitCode, down.stderr).toBe(0)
    }
    // The servers were not its to stop.
    const still = await mm(['status', '--json'], {cwd})
    expect(still.exitCode, still.stdout).toBe(0)
  })
})

/** An exact decimal string as an integer of 10^-12 units. */
const toMicro = (v: string): bigint => {
  const [w, f = ''] = v.split('.')
  return BigInt(w!) * 10n ** 12n + BigInt((f + '0'.repeat(12)).slice(0, 12))
}

/** "1.500000000000" and "1.5" are the same amount. */
const normalise = (v: string): string => (v.includes('.') ? v.replace(/0+$/, '').replace(/\.$/, '') : v)
