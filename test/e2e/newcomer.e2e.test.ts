import {randomUUID} from 'node:crypto'
import {chmodSync, mkdtempSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {execa} from 'execa'
import pg from 'pg'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {http} from '../support/poll.js'
import {json, mm} from './cli.js'

// Under /tmp so the postgres user can reach the data directory.
const cwd = mkdtempSync('/tmp/mm-e2e-newcomer-')
chmodSync(cwd, 0o755)

const COMPONENTS = ['customer', 'product', 'order', 'query', 'ingest']

interface EnvJson {
  runtime: string
  masked: boolean
  variables: Record<string, string>
}
interface WaitJson {
  for: string
  reached: boolean
  waitedMs: number
  timeoutMs: number
  pending: {name: string; ok: boolean; detail: string}[]
  checks: {name: string; ok: boolean; detail: string}[]
}
interface StatusJson {
  healthy: boolean
  runners: {name: string; state: string}[]
  notStarted: {name: string; reason: string}[]
}

let api = ''
/** JSON over HTTP against the platform's gateway (test/support/poll.ts). */
const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => http(api, method, path, body, headers)
const gatewayOf = (r: Awaited<ReturnType<typeof mm>>) => json<{endpoints: {name: string; url: string}[]}>(r).endpoints.find((e) => e.name === 'gateway')!.url

/** A newcomer's first hour: some runners only, connection settings, a client, and waiting for quiet. */
describe('mm up customer product: only some runners', () => {
  beforeAll(async () => {
    const r = await mm(['up', 'customer', 'product', '--infra', 'native', '-d', '--http-port', '0', '--json'], {cwd})
    expect(r.exitCode, r.stderr).toBe(0)
    const up = json<{runners: string[]; notStarted: {name: string}[]}>(r)
    expect(up.runners).toEqual(['customer', 'product'])
    expect(up.notStarted.map((n) => n.name)).toEqual(['order', 'query', 'ingest'])
    api = gatewayOf(r)
  })
  afterAll(async () => {
    await mm(['down'], {cwd})
  })

  it('status shows the two runners ready and the three others not started, and why; the platform is healthy', async () => {
    const r = await mm(['status', '--json'], {cwd})
    expect(r.exitCode, r.stdout).toBe(0)
    const s = json<StatusJson>(r)
    expect(s.healthy).toBe(true)
    expect(s.runners.map((x) => [x.name, x.state])).toEqual([
      ['customer', 'ready'],
      ['product', 'ready'],
    ])
    expect(s.notStarted).toEqual(['order', 'query', 'ingest'].map((name) => ({name, reason: 'not selected by mm up customer product'})))
    const text = await mm(['status'], {cwd})
    expect(text.exitCode).toBe(0)
    expect(text.stdout).toMatch(/^ingest\s+not started: not selected by mm up customer product$/m)
  })

  it('the started runners serve their API; the others are not mounted', async () => {
    const customer = await call('POST', '/customers', {name: 'Ana', email: `ana.${randomUUID()}@example.test`})
    expect(customer.status).toBe(201)
    expect((await call('GET', `/customers/${customer.body.id}`)).body.name).toBe('Ana')
    expect((await call('POST', '/products', {sku: `SKU-${randomUUID().slice(0, 8)}`, name: 'Lamp', price_cents: 100, stock: 1})).status).toBe(201)
    const order = await call('GET', `/orders/${randomUUID()}`)
    expect(order.status).toBe(404)
    expect(order.body.error.code).toBe('not_found')
  })

  it('a second mm up with another selection restarts nothing and says which runners run', async () => {
    const r = await mm(['up', 'order', '-d', '--json'], {cwd})
    expect(r.exitCode, r.stderr).toBe(0)
    const up = json<{alreadyUp: boolean; runners: string[]; note?: string}>(r)
    expect(up.alreadyUp).toBe(true)
    expect(up.runners).toEqual(['customer', 'product'])
    expect(up.note).toContain('runners already running: customer, product')
    const text = await mm(['up', '--exclude', 'ingest', '-d'], {cwd})
    expect(text.exitCode).toBe(0)
    expect(text.stdout).toContain('Already up (native).')
    expect(text.stdout).toContain('runners already running: customer, product')
  })

  it('an unknown component is a usage error naming the valid ones', async () => {
    const r = await mm(['up', 'orders', '--json'], {cwd})
    expect(r.exitCode).toBe(2)
    expect(json<{error: {message: string}}>(r).error.message).toBe('unknown component "orders"; valid names: customer, product, order, query, ingest')
    const ex = await mm(['up', '--exclude', 'nope'], {cwd})
    expect(ex.exitCode).toBe(2)
    expect(ex.stderr).toContain('valid names: customer, product, order, query, ingest')
  })

  it('mm env prints masked export lines and a --reveal hint on stderr', async () => {
    const r = await mm(['env'], {cwd})
    expect(r.exitCode, r.stderr).toBe(0)
    const names = [...r.stdout.matchAll(/^export (\w+)=/gm)].map((m) => m[1])
    expect(names).toEqual([
      'MM_POSTGRES_URL',
      'MM_REDIS_URL',
      'MM_RABBITMQ_URL',
      'MM_RABBITMQ_MANAGEMENT_URL',
      'MM_KAFKA_BROKERS',
      'MM_MONGODB_URL',
      'MM_API_URL',
      'DATABASE_URL',
      'REDIS_URL',
      'AMQP_URL',
      'KAFKA_BROKERS',
      'MONGODB_URL',
    ])
    expect(r.stdout).toMatch(/^export DATABASE_URL='postgres:\/\/mm:\*\*\*@127\.0\.0\.1:\d+\/mercadomio'$/m)
    expect(r.stderr).toMatch(/^# .*--reveal/m)
    const revealed = json<EnvJson>(await mm(['env', '--reveal', '--json'], {cwd}))
    expect(r.stdout).not.toContain(new URL(revealed.variables.DATABASE_URL!).password)
    // mm itself refuses the masked values rather than failing to authenticate.
    const masked = json<EnvJson>(await mm(['env', '--json'], {cwd}))
    expect(masked.masked).toBe(true)
    const refused = await mm(['status', '--json'], {cwd, env: {MM_POSTGRES_URL: masked.variables.MM_POSTGRES_URL!}})
    expect(refused.exitCode).toBe(2)
    expect(json<{error: {message: string}}>(refused).error.message).toContain('mm env --reveal')
  })

  it('mm env --reveal works with eval and points any tool at the platform', async () => {
    const r = await mm(['env', '--reveal', '--json'], {cwd})
    expect(r.exitCode, r.stderr).toBe(0)
    const env = json<EnvJson>(r)
    expect(env).toMatchObject({runtime: 'native', masked: false})
    expect(env.variables.MM_API_URL).toBe(api)
    const client = new pg.Client({connectionString: env.variables.DATABASE_URL})
    await client.connect()
    expect((await client.query('SELECT count(*)::int AS n FROM customer.customers')).rows[0].n).toBeGreaterThan(0)
    await client.end()
    // The text form, evaluated by a shell, gives exactly the same values.
    const text = await mm(['env', '--reveal'], {cwd})
    expect(text.stderr).not.toMatch(/--reveal/)
    writeFileSync(join(cwd, 'env.sh'), text.stdout)
    const sh = await execa('sh', ['-c', '. ./env.sh && printf "%s\\n" "$DATABASE_URL" "$KAFKA_BROKERS" "$MM_API_URL"'], {cwd})
    expect(sh.stdout.split('\n')).toEqual([env.variables.DATABASE_URL, env.variables.KAFKA_BROKERS, api])
    expect((await fetch(`${env.variables.MM_API_URL}/health`)).status).toBe(200)
  })

  it('mm connect postgres without a terminal prints the command (masked), and the revealed one runs', async () => {
    const r = await mm(['connect', 'postgres'], {cwd})
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stdout.trim()).toMatch(/^PGPASSWORD='\*\*\*' psql postgres:\/\/mm@127\.0\.0\.1:\d+\/mercadomio$/)
    expect(r.stderr).toContain('--exec')
    const revealed = await mm(['connect', 'postgres', '--reveal'], {cwd})
    const sh = await execa('sh', ['-c', `${revealed.stdout.trim()} -tAc 'select 40 + 2'`], {cwd, reject: false})
    expect(sh.stdout.trim(), sh.stderr).toBe('42')
    const exec = await mm(['connect', 'postgres', '--exec', '--', '-tAc', 'select 6 * 7'], {cwd})
    expect(exec.exitCode, exec.stderr).toBe(0)
    expect(exec.stdout.trim()).toBe('42')
  })

  it('mm wait --for ready returns at once; --for drained past its timeout exits 4 naming what is pending', async () => {
    const ready = await mm(['wait', '--json'], {cwd})
    expect(ready.exitCode, ready.stdout).toBe(0)
    const w = json<WaitJson>(ready)
    expect(w).toMatchObject({for: 'ready', reached: true, pending: []})
    expect(w.checks.map((c) => c.name)).toEqual([
      'server postgres',
      'server redis',
      'server rabbitmq',
      'server kafka',
      'server mongo',
      'supervisor',
      'runner customer',
      'runner product',
    ])
    // The query runner is not started, so the customer.created events above wait in its Kafka group.
    const drained = await mm(['wait', '--for', 'drained', '--timeout', '1s', '--json'], {cwd})
    expect(drained.exitCode, drained.stdout).toBe(4)
    const d = json<WaitJson>(drained)
    expect(d).toMatchObject({for: 'drained', reached: false, timeoutMs: 1000})
    expect(d.pending).toContainEqual(
      expect.objectContaining({name: 'kafka query', ok: false, detail: expect.stringMatching(/^lag \d+ \(.*customer\.created \d+/)}),
    )
    const text = await mm(['wait', '--for', 'drained', '--timeout', '1s'], {cwd})
    expect(text.exitCode).toBe(4)
    expect(text.stdout).toMatch(/not drained after 1\.0s; still pending:\nCHECK\s+PENDING\n/)
  })
})

describe('the whole platform: load, then wait until drained', () => {
  beforeAll(async () => {
    const r = await mm(['up', '--infra', 'native', '-d', '--http-port', '0', '--json'], {cwd})
    expect(r.exitCode, r.stderr).toBe(0)
    expect(json<{runners: string[]}>(r).runners).toEqual(COMPONENTS)
    api = gatewayOf(r)
  })
  afterAll(async () => {
    await mm(['down', '-v'], {cwd})
  })

  it('status: all five runners ready, none left out', async () => {
    const s = json<StatusJson>(await mm(['status', '--json'], {cwd}))
    expect(s.runners.map((r) => r.name)).toEqual(COMPONENTS)
    expect(s.notStarted).toEqual([])
  })

  it('mm load orders --total 50 && mm wait --for drained: exit 0, everything settled', async () => {
    expect((await mm(['seed', '--customers', '5', '--products', '10'], {cwd})).exitCode).toBe(0)
    const load = await mm(['load', 'orders', '--total', '50', '--rate', '25', '--json'], {cwd, timeoutMs: 180_000})
    expect(load.exitCode, load.stderr).toBe(0)
    const r = await mm(['wait', '--for', 'drained', '--timeout', '2m', '--json'], {cwd})
    expect(r.exitCode, r.stdout).toBe(0)
    const w = json<WaitJson>(r)
    expect(w).toMatchObject({for: 'drained', reached: true, pending: [], timeoutMs: 120_000})
    expect(w.waitedMs).toBeGreaterThanOrEqual(0)
    const names = w.checks.map((c) => c.name)
    for (const name of [
      'outbox customer',
      'outbox product',
      'outbox order',
      'rabbitmq pulses',
      'rabbitmq customer.order-events',
      'kafka product',
      'kafka order',
      'kafka query',
      'read model',
    ])
      expect(names).toContain(name)
    expect(w.checks.every((c) => c.ok)).toBe(true)
    // Drained means the read model agrees with the write model.
    const status = json<{platform: {projections: {writeByStatus: Record<string, number>; read: {ordersByStatus: Record<string, number>}; drift: unknown[]}}}>(
      await mm(['status', '--json'], {cwd}),
    )
    expect(status.platform.projections.drift).toEqual([])
    expect(status.platform.projections.read.ordersByStatus).toEqual(status.platform.projections.writeByStatus)
    expect(Object.values(status.platform.projections.writeByStatus).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(50)
  })
})

describe('nothing running', () => {
  it('mm wait --for drained and mm env say so, exit 1, JSON errors under --json', async () => {
    const drained = await mm(['wait', '--for', 'drained', '--timeout', '1s', '--json'], {cwd})
    expect(drained.exitCode).toBe(1)
    expect(json<{error: {message: string; hint: string}}>(drained).error).toMatchObject({
      message: expect.stringContaining('not running'),
      hint: expect.stringContaining('mm up'),
    })
    const env = await mm(['env'], {cwd})
    expect(env.exitCode).toBe(1)
    expect(env.stdout).toBe('')
    expect(env.stderr).toContain('mm up')
    const ready = await mm(['wait', '--timeout', '1s', '--json'], {cwd})
    expect(ready.exitCode).toBe(4)
    expect(json<WaitJson>(ready).pending).toEqual([{name: 'platform', ok: false, detail: 'not running (start it with mm up -d)'}])
  })
})
