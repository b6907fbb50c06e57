import {randomUUID} from 'node:crypto'

import amqp from 'amqplib'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {createIngestRunner} from '../../services/ingest/index.js'
import {eventually, http, startTestPlatform, TEST_DEPS, type TestPlatform} from './harness.js'

/** ingest end to end (PLATFORM.md §3.5): RabbitMQ → Redis aggregates → flush → ingest.pulses → HTTP. */
describe('ingest', () => {
  let p: TestPlatform
  let conn: amqp.ChannelModel
  let ch: amqp.ConfirmChannel
  const publish = (messages: {body: string; messageId?: string}[]) => publishPulses(ch, p.ns('pulses'), messages)
  const counters = async () => {
    const health = await http(p.url, 'GET', '/health')
    return health.body.runners.find((r: {name: string}) => r.name === 'ingest').counters as {handled: number; deadLettered: number}
  }
  /** Flush (as `mm flush` does) until the persisted totals of `tag`'s tenants equal `expected`. */
  const flushUntil = (tag: string, expected: Map<string, string>) =>
    eventually(
      async () => {
        const flushed = await http(p.url, 'POST', '/ingest/flush')
        expect(flushed.status).toBe(200)
        const got = await readTotals(p.url, tag)
        return JSON.stringify([...got].sort()) === JSON.stringify([...expected].sort()) ? got : undefined
      },
      {timeoutMs: 30_000, what: `totals of ${tag}`},
    )

  beforeAll(async () => {
    p = await startTestPlatform({label: 'ingest', runners: [createIngestRunner({...TEST_DEPS, config: {...TEST_DEPS.config, ingestFlushIntervalMs: 400}})]})
    conn = await amqp.connect(p.endpoints.rabbitmq)
    ch = await conn.createConfirmChannel()
  })
  afterAll(async () => {
    await conn?.close()
    await p?.stop()
  })

  it('flushes on its schedule and records the last and next flush', async () => {
    const tag = `sched-${randomUUID()}`
    await publish([{body: pulseBody([`${tag}|t`, 's', 'u'], '0.25')}])
    // No POST /ingest/flush in this test: only the 400 ms schedule can persist the pulse.
    const rows = await eventually(
      async () => {
        const got = await readTotals(p.url, tag)
        return got.size > 0 ? got : undefined
      },
      {what: 'the scheduled flush'},
    )
    expect([...rows]).toEqual([[JSON.stringify([`${tag}|t`, 's', 'u']), '0.25']])
    const status = await http(p.url, 'GET', '/ingest/status')
    expect(status.status).toBe(200)
    expect(Date.parse(status.body.lastFlush.at)).toBeGreaterThan(Date.now() - 60_000)
    expect(Date.parse(status.body.nextFlushAt)).toBeGreaterThan(Date.parse(status.body.lastFlush.at) - 1000)
  })

  it('sums 1000 pulses of 0.1 and odd amounts exactly over awkward keys', async () => {
    const tag = `sum-${randomUUID()}`
    const keys: [string, string, string][] = tenantsOf(tag, [
      ['a:b', 'c', 'u'],
      ['a', 'b:c', 'u'],
      ['ünïcødé', 'sku:ü', 'kWh'],
      ['😀 emoji', '🚀:1', 'µs'],
      ['"quoted"', "it's", '\\back\\slash'],
      ['t', 's', '["json",1]'],
      [' lead', 'trail ', '\t'],
    ])
    const oracle = new Map<string, bigint>() // units of 10^-12, computed here with BigInt only
    const messages: {body: string; messageId?: string}[] = []
    const add = (key: [string, string, string], units: bigint, text: string, i: number) => {
      oracle.set(JSON.stringify(key), (oracle.get(JSON.stringify(key)) ?? 0n) + units)
      messages.push({body: pulseBody(key, text), messageId: i % 2 === 0 ? `${tag}-${i}` : undefined})
    }
    for (let i = 0; i < 1000; i++) add(keys[i % keys.length]!, 100_000_000_000n, '0.1', i)
    const odd: [bigint, string][] = [
      [1n, '0.000000000001'],
      [100_000n, '1e-7'],
      [123456789_123456789012n, '123456789.123456789012'],
      [9007199254740993_000000000000n, '9007199254740993'],
      [2_500_000_000_000_000n, '2.5E+3'],
    ]
    odd.forEach(([units, text], j) => add(keys[j]!, units, text, 1000 + j))
    await publish(messages)
    const expected = new Map([...oracle].map(([k, units]) => [k, toDecimal(units)]))
    // Sanity of the oracle itself: 143 or 142 pulses of 0.1 per key, plus the odd amounts.
    expect([0, 1, 6].map((i) => expected.get(JSON.stringify(keys[i])))).toEqual(['14.300000000001', '14.3000001', '14.2'])
    await flushUntil(tag, expected)
  })

  it('counts a message_id once however often it is delivered', async () => {
    const tag = `dup-${randomUUID()}`
    const key: [string, string, string] = [`${tag}|t`, 's', 'u']
    const before = await counters()
    await publish([
      {body: pulseBody(key, '0.5'), messageId: `${tag}-a`},
      {body: pulseBody(key, '0.5'), messageId: `${tag}-a`},
      {body: pulseBody(key, '0.25'), messageId: `${tag}-b`},
      {body: pulseBody(key, '0.125')},
      {body: pulseBody(key, '0.125')}, // no message_id: no deduplication, both count
    ])
    await eventually(async () => (await counters()).handled >= before.handled + 5, {what: 'all five handled'})
    await flushUntil(tag, new Map([[JSON.stringify(key), '1']]))
    // Redelivered again after the flush: still remembered.
    await publish([{body: pulseBody(key, '0.5'), messageId: `${tag}-a`}])
    await eventually(async () => (await counters()).handled >= before.handled + 6, {what: 'the redelivery handled'})
    await http(p.url, 'POST', '/ingest/flush')
    expect([...(await readTotals(p.url, tag))]).toEqual([[JSON.stringify(key), '1']])
  })

  it('flushes early instead of overflowing when a live total passes 64-bit whole units', async () => {
    const tag = `big-${randomUUID()}`
    const key: [string, string, string] = [`${tag}|t`, 's', 'u']
    const max = '9223372036854775807.999999999999'
    await publish([
      {body: pulseBody(key, max), messageId: `${tag}-1`},
      {body: pulseBody(key, max), messageId: `${tag}-2`},
      {body: pulseBody(key, '0.000000000002')},
    ])
    await flushUntil(tag, new Map([[JSON.stringify(key), '18446744073709551616']]))
  })

  it('dead-letters invalid pulses with the reason and keeps counting valid ones', async () => {
    const tag = `dlq-${randomUUID()}`
    const key: [string, string, string] = [`${tag}|t`, 's', 'u']
    const bad: [string, string][] = [
      ['not json', 'body is not JSON'],
      ['{"product_sku":"s","use_unity":"u","used_amount":1}', 'tenant is missing'],
      [pulseBody(['', 's', 'u'], '1'), 'tenant must not be empty'],
      ['{"tenant":1,"product_sku":"s","use_unity":"u","used_amount":1}', 'tenant must be a string'],
      [pulseBody(key, '"abc"'), 'used_amount must be a JSON number (got "abc")'],
      [pulseBody(key, '-1'), 'used_amount -1 is negative'],
      [pulseBody(key, '1e400'), 'used_amount 1e400 is too large'],
      [pulseBody(key, '0.0000000000001'), 'used_amount 0.0000000000001 has more than 12 decimal places'],
    ]
    const before = await counters()
    await publish([...bad.map(([body], i) => ({body, messageId: `${tag}-bad-${i}`})), {body: pulseBody(key, '0.7'), messageId: `${tag}-ok`}])
    const dead = await pollDlq(ch, p.ns('pulses.dlq'), bad.length)
    const reasons = new Map(dead.map((m) => [m.properties.messageId as string, m.properties.headers?.['x-error-message'] as string]))
    bad.forEach(([body, reason], i) => {
      expect(reasons.get(`${tag}-bad-${i}`), body).toBe(reason)
    })
    for (const m of dead) {
      expect(m.properties.headers?.['x-error-class']).toBe('PoisonMessageError')
      expect(m.properties.headers?.['x-original-queue']).toBe(p.ns('pulses'))
    }
    expect(dead.map((m) => m.content.toString()).sort()).toEqual(bad.map(([body]) => body).sort()) // byte for byte
    await flushUntil(tag, new Map([[JSON.stringify(key), '0.7']]))
    expect((await counters()).deadLettered).toBeGreaterThanOrEqual(before.deadLettered + bad.length)
    expect((await http(p.url, 'GET', '/health')).body.runners[0].state).toBe('ready')
  })
})

/** Test-side helpers, independent of the code under test (no imports from services/ingest). */
const tenantsOf = (tag: string, keys: [string, string, string][]): [string, string, string][] => keys.map(([t, s, u]) => [`${tag}|${t}`, s, u])

const pulseBody = (key: [string, string, string], amountText: string): string =>
  `{"tenant":${JSON.stringify(key[0])},"product_sku":${JSON.stringify(key[1])},"use_unity":${JSON.stringify(key[2])},"used_amount":${amountText}}`

/** Units of 10^-12 as the shortest decimal text. */
const toDecimal = (units: bigint): string => {
  const whole = units / 10n ** 12n
  const frac = (units % 10n ** 12n).toString().padStart(12, '0').replace(/0+$/, '')
  return frac ? `${whole}.${frac}` : `${whole}`
}

const publishPulses = async (ch: amqp.ConfirmChannel, queue: string, messages: {body: string; messageId?: string}[]) => {
  for (const m of messages) ch.sendToQueue(queue, Buffer.from(m.body), m.messageId === undefined ? {} : {messageId: m.messageId})
  await ch.waitForConfirms()
}

/** Every persisted row whose tenant starts with `tag`, through GET /pulses, as JSON key → amount. */
const readTotals = async (url: string, tag: string): Promise<Map<string, string>> => {
  const out = new Map<string, string>()
  for (let page = 1; ; page++) {
    const res = await http(url, 'GET', `/pulses?page=${page}&limit=1000`)
    expect(res.status).toBe(200)
    for (const r of res.body.items) if (r.tenant.startsWith(tag)) out.set(JSON.stringify([r.tenant, r.product_sku, r.use_unity]), r.used_amount)
    if (page >= res.body.pages) return out
  }
}

const pollDlq = async (ch: amqp.Channel, queue: string, count: number): Promise<amqp.GetMessage[]> => {
  const got: amqp.GetMessage[] = []
  await eventually(
    async () => {
      for (let m = await ch.get(queue, {noAck: true}); m; m = await ch.get(queue, {noAck: true})) got.push(m)
      return got.length >= count
    },
    {what: `${count} dead letters on ${queue}`},
  )
  return got
}
