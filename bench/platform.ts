import {execFileSync, spawn, spawnSync} from 'node:child_process'
import {randomUUID} from 'node:crypto'
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {pipeline} from 'node:stream/promises'
import {Readable} from 'node:stream'

import amqp from 'amqplib'
import pg from 'pg'
import {from as copyFrom} from 'pg-copy-streams'

import {loadConfig} from '../src/config/index.js'
import {resolveEndpoints} from '../src/infra/platform.js'
import {applyTopology} from '../src/infra/topology/apply.js'
import {namespacedTopology, prefixNamespace, TOPOLOGY} from '../src/infra/topology/spec.js'
import {createLogger} from '../src/lib/logger.js'
import {startPlatform} from '../src/runtime/host.js'

/** Benchmarks against a running platform (state in `cwd/.mm`), each next to its raw baseline. */
export interface PlatformCtx {
  cwd: string
  bin: string
  postgres: string
  rabbitmq: string
  gateway: string
}

export const platformCtx = (cwd: string, bin: string): PlatformCtx => {
  const s = JSON.parse(readFileSync(join(cwd, '.mm', 'state.json'), 'utf8')) as {servers: Record<string, {url: string}>; supervisor: {http: string}}
  return {cwd, bin, postgres: s.servers.postgres!.url, rabbitmq: s.servers.rabbitmq!.url, gateway: s.supervisor.http}
}

const mmJson = <T>(ctx: PlatformCtx, args: string[]): T =>
  JSON.parse(
    execFileSync(process.execPath, [ctx.bin, ...args, '--json'], {
      cwd: ctx.cwd,
      encoding: 'utf8',
      env: {...process.env, CI: 'true'},
      maxBuffer: 64 << 20,
      stdio: ['ignore', 'pipe', 'ignore'],
    }),
  ) as T

const handledBy = async (ctx: PlatformCtx, runner: string): Promise<number> => {
  const body = (await (await fetch(`${ctx.gateway}/health`)).json()) as {runners: {name: string; counters: {handled: number; failed: number}}[]}
  const r = body.runners.find((x) => x.name === runner)!
  return r.counters.handled + r.counters.failed
}

const pulse = (i: number, skus: number) => Buffer.from(`{"tenant":"bench","product_sku":"SKU-${i % skus}","use_unity":"req","used_amount":0.1}`)

const publish = async (url: string, queue: string, n: number, skus: number): Promise<void> => {
  const conn = await amqp.connect(url)
  const ch = await conn.createConfirmChannel()
  for (let i = 0; i < n; i++) {
    ch.sendToQueue(queue, pulse(i, skus), {messageId: randomUUID()})
    if (i % 500 === 499) await ch.waitForConfirms()
  }
  await ch.waitForConfirms()
  await conn.close()
}

/**
 * Ingest vs an ack-only consumer, each draining the same number of pulses from a preloaded queue
 * (so neither is bound by the publisher), with the same prefetch. Ingest runs in this process
 * under a namespace of its own (queue `bench_pulses`), so the platform's own ingest runner does
 * not take the messages. Each rate is from the first message handled to the last. The raw drain
 * alone moves by a third between runs on this machine, so the two alternate `rounds` times and
 * each figure is the median of its own.
 */
export const benchIngest = async (
  ctx: PlatformCtx,
  n: number,
  rounds = 3,
): Promise<{ingestPerSec: number; rawPerSec: number; prefetch: number; rounds: number}> => {
  const {PULSES_PREFETCH} = await import('../services/ingest/index.js')
  const raw: number[] = []
  const ingest: number[] = []
  for (let i = 0; i < rounds; i++) {
    raw.push(await rawDrain(ctx, n, PULSES_PREFETCH))
    ingest.push(await ingestDrain(ctx, n))
  }
  return {ingestPerSec: median(ingest), rawPerSec: median(raw), prefetch: PULSES_PREFETCH, rounds}
}

/** Messages per second of an amqplib consumer that only acks, draining `n` preloaded messages. */
const rawDrain = async (ctx: PlatformCtx, n: number, prefetch: number): Promise<number> => {
  const conn = await amqp.connect(ctx.rabbitmq)
  const ch = await conn.createChannel()
  const q = `bench.raw.${randomUUID()}`
  await ch.assertQueue(q, {durable: true})
  await publish(ctx.rabbitmq, q, n, 50)
  await ch.prefetch(prefetch)
  let acked = 0
  let first = 0
  let done!: (ms: number) => void
  const all = new Promise<number>((r) => (done = r))
  await ch.consume(q, (m) => {
    if (!m) return
    if (acked === 0) first = performance.now()
    ch.ack(m)
    if (++acked === n) done(performance.now() - first)
  })
  const rawMs = await all
  await ch.deleteQueue(q)
  await conn.close()
  return n / (rawMs / 1000)
}

/** Pulses per second of the real ingest runner, started once `n` pulses wait in its queue. */
const ingestDrain = async (ctx: PlatformCtx, n: number): Promise<number> => {
  const {createIngestRunner} = await import('../services/ingest/index.js')
  const ns = prefixNamespace('bench_')
  const {endpoints, config, logger} = await hostDeps(ctx)
  await applyTopology(endpoints, namespacedTopology(TOPOLOGY, ns), logger)
  await publish(ctx.rabbitmq, ns('pulses'), n, 50)
  const host = await startPlatform({config, endpoints, logger, runners: [createIngestRunner()], ns, port: 0})
  try {
    const handled = () => {
      const c = host.supervisor.reports().find((r) => r.name === 'ingest')!.counters
      return c.handled + c.failed
    }
    let t0 = 0
    while (handled() < n) {
      if (t0 === 0 && handled() > 0) t0 = performance.now()
      await new Promise((r) => setTimeout(r, 2))
    }
    return n / ((performance.now() - t0) / 1000)
  } finally {
    await host.stop()
  }
}

/** What startPlatform needs to run a runner of this process against the bench's platform. */
const hostDeps = async (ctx: PlatformCtx) => {
  const config = loadConfig({cwd: ctx.cwd, env: {MM_HTTP_PORT: '0', MM_LOG_LEVEL: 'warn'}})
  const endpoints = (await resolveEndpoints(
    config,
    createLogger(() => {}, 'error'),
  ))!
  return {config, endpoints, logger: createLogger(() => {}, 'error')}
}

/** Flush of `keys` aggregates vs a raw COPY of the same number of rows. */
export const benchFlush = async (ctx: PlatformCtx, keys: number): Promise<{flushRowsPerSec: number; copyRowsPerSec: number; rows: number}> => {
  mmJson(ctx, ['flush'])
  const before = await handledBy(ctx, 'ingest')
  await publish(ctx.rabbitmq, 'pulses', keys, keys)
  while ((await handledBy(ctx, 'ingest')) < before + keys) await new Promise((r) => setTimeout(r, 20))
  const flush = mmJson<{rows: number; durationMs: number}>(ctx, ['flush'])
  const client = new pg.Client({connectionString: ctx.postgres})
  await client.connect()
  // The same rows into a table of the same shape (its unique key and defaults included), logged
  // like ingest.pulses (a TEMP table would skip the WAL and flatter the baseline).
  const table = `ingest.bench_copy_${randomUUID().slice(0, 8)}`
  await client.query(`CREATE TABLE ${table} (LIKE ingest.pulses INCLUDING ALL)`)
  const lines = Array.from({length: keys}, (_, i) => `bench\tSKU-${i}\treq\t0.1\n`).join('')
  const t0 = performance.now()
  await pipeline(Readable.from([lines]), client.query(copyFrom(`COPY ${table} (tenant, product_sku, use_unity, used_amount) FROM STDIN`)))
  const copyMs = performance.now() - t0
  await client.query(`DROP TABLE ${table}`)
  await client.end()
  return {flushRowsPerSec: flush.rows / (flush.durationMs / 1000), copyRowsPerSec: keys / (copyMs / 1000), rows: flush.rows}
}

interface LoadJson {
  latencyMs: Record<string, number>
  readModelLagMs: Record<string, number>
  completedPerSecond: number[]
  completed: number
  requested: number
  throughputPerSec: number
  errors: Record<string, number>
}

const loadOrders = (ctx: PlatformCtx, args: string[]): LoadJson => {
  const r = spawnSync(process.execPath, [ctx.bin, 'load', 'orders', ...args, '--json'], {
    cwd: ctx.cwd,
    encoding: 'utf8',
    env: {...process.env, CI: 'true'},
    maxBuffer: 64 << 20,
  })
  if (!r.stdout.trim()) throw new Error(`mm load orders ${args.join(' ')} printed nothing: ${r.stderr}`)
  return JSON.parse(r.stdout) as LoadJson
}

/** Fills the platform with `orders` orders through the API (each paid and projected), as a user's platform would hold. */
export const fillOrders = (ctx: PlatformCtx, orders: number): LoadJson => {
  mmJson(ctx, ['seed', '--customers', '50', '--products', '100'])
  return loadOrders(ctx, ['--rate', '200', '--total', String(orders), '--concurrency', '400', '--step-timeout', '120s'])
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0)

/**
 * Order flow at a fixed rate for `seconds`: POST /orders → PAID in the read model (p50, p99),
 * orders completed per second overall, in the first 10 s and in the last 10 s of the run.
 */
export const benchOrders = (ctx: PlatformCtx, rate: number, seconds: number) => {
  const s = loadOrders(ctx, ['--rate', String(rate), '--duration', `${seconds}s`, '--warmup', '2s', '--concurrency', '200'])
  const timeline = s.completedPerSecond.slice(0, seconds)
  while (timeline.length < seconds) timeline.push(0)
  const first = sum(timeline.slice(0, 10)) / 10
  const last = sum(timeline.slice(-10)) / 10
  return {
    p50: s.latencyMs.p50!,
    p99: s.latencyMs.p99!,
    lagP50: s.readModelLagMs.p50!,
    lagP99: s.readModelLagMs.p99!,
    completed: s.completed,
    throughput: s.throughputPerSec,
    first,
    last,
    errors: s.errors,
  }
}

/** Read-model lag (pay answered → PAID in /q) under `orderRate` orders/s beside `pulseRate` pulses/s. */
export const benchMixed = async (ctx: PlatformCtx, orderRate: number, pulseRate: number, seconds: number) => {
  const pulses = spawn(process.execPath, [ctx.bin, 'load', 'pulses', '--rate', String(pulseRate), '--total', String(pulseRate * (seconds + 2)), '--json'], {
    cwd: ctx.cwd,
    env: {...process.env, CI: 'true'},
    stdio: 'ignore',
  })
  const exited = new Promise((r) => pulses.on('exit', r))
  await new Promise((r) => setTimeout(r, 1000)) // the pulses flow first
  try {
    const s = loadOrders(ctx, ['--rate', String(orderRate), '--duration', `${seconds}s`, '--warmup', '2s'])
    return {lagP50: s.readModelLagMs.p50!, lagP99: s.readModelLagMs.p99!, p50: s.latencyMs.p50!, p99: s.latencyMs.p99!, completed: s.completed}
  } finally {
    pulses.kill('SIGINT')
    await exited
  }
}

interface Health {
  runners: {name: string; counters: {handled: number; failed: number; httpRequests: number; calls?: Record<string, number>}}[]
}

const health = async (ctx: PlatformCtx): Promise<Health> => (await (await fetch(`${ctx.gateway}/health`)).json()) as Health

const totals = (h: Health) => {
  const calls: Record<string, number> = {}
  let handled = 0
  for (const r of h.runners) {
    handled += r.counters.handled + r.counters.failed
    for (const [k, v] of Object.entries(r.counters.calls ?? {})) calls[k] = (calls[k] ?? 0) + v
  }
  return {calls, handled}
}

/** Waits until no runner handled anything for `quietMs` (everything in flight has settled). */
const settle = async (ctx: PlatformCtx, quietMs = 2000): Promise<void> => {
  let last = -1
  let since = Date.now()
  for (;;) {
    const {handled} = totals(await health(ctx))
    if (handled !== last) {
      last = handled
      since = Date.now()
    } else if (Date.now() - since >= quietMs) return
    await new Promise((r) => setTimeout(r, 200))
  }
}

/**
 * Database and broker calls per order, counted by the runners themselves (PostgreSQL queries,
 * Redis commands, MongoDB commands, Kafka produce calls, RabbitMQ confirmed publishes): `n`
 * orders created, settled, paid, settled; the counters' growth divided by `n`. The requests of
 * this measurement itself are the two POSTs per order, nothing else (no polling).
 */
export const benchCallsPerOrder = async (ctx: PlatformCtx, n: number): Promise<{perOrder: Record<string, number>; total: number}> => {
  const get = async (path: string) => (await (await fetch(`${ctx.gateway}${path}`)).json()) as {items: {id: string; stock?: number}[]}
  const customers = (await get('/customers?limit=50')).items
  const products = (await get('/products?limit=100')).items.filter((p) => (p.stock ?? 0) > 10)
  await settle(ctx)
  const before = totals(await health(ctx)).calls
  const post = async (path: string, body?: unknown) => {
    const res = await fetch(`${ctx.gateway}${path}`, {
      method: 'POST',
      headers: body ? {'content-type': 'application/json'} : {},
      body: body ? JSON.stringify(body) : undefined,
    })
    return (await res.json()) as {id: string}
  }
  const ids: string[] = []
  for (let i = 0; i < n; i += 10) {
    const batch = await Promise.all(
      Array.from({length: Math.min(10, n - i)}, (_, k) =>
        post('/orders', {customer_id: customers[(i + k) % customers.length]!.id, items: [{product_id: products[(i + k) % products.length]!.id, quantity: 1}]}),
      ),
    )
    ids.push(...batch.map((o) => o.id))
  }
  await settle(ctx)
  for (let i = 0; i < ids.length; i += 10) await Promise.all(ids.slice(i, i + 10).map((id) => post(`/orders/${id}/pay`)))
  await settle(ctx)
  const after = totals(await health(ctx)).calls
  const perOrder = Object.fromEntries(Object.keys(after).map((k) => [k, Math.round(((after[k]! - (before[k] ?? 0)) / n) * 10) / 10]))
  return {perOrder, total: Math.round(Object.values(perOrder).reduce((a, b) => a + b, 0) * 10) / 10}
}

/** CPU of `mm dash` refreshing every second in a real terminal (tmux), as % of one core. */
let clockTicks: number | undefined

/** CPU seconds (user + system) a process has used so far, from /proc. */
const cpuSeconds = (pid: number): number => {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], {encoding: 'utf8'}).trim())
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(f[11]) + Number(f[12])) / clockTicks // utime + stime, in clock ticks
}

export const benchDash = async (ctx: PlatformCtx, seconds: number): Promise<number | undefined> => {
  if (spawnSync('sh', ['-c', 'command -v tmux']).status !== 0) return undefined
  const session = `mm-bench-dash-${process.pid}`
  spawnSync('tmux', ['new-session', '-d', '-s', session, '-x', '160', '-y', '48', `cd ${ctx.cwd} && env -u CI ${process.execPath} ${ctx.bin} dash`])
  try {
    await new Promise((r) => setTimeout(r, 4000)) // start-up and first polls
    const pid = Number(
      execFileSync('pgrep', ['-f', `${ctx.bin} dash`], {encoding: 'utf8'})
        .trim()
        .split('\n')
        .pop(),
    )
    const t0 = cpuSeconds(pid)
    const w0 = performance.now()
    await new Promise((r) => setTimeout(r, seconds * 1000))
    return ((cpuSeconds(pid) - t0) / ((performance.now() - w0) / 1000)) * 100
  } finally {
    spawnSync('tmux', ['kill-session', '-t', session])
  }
}

/**
 * Restarts the runners alone (the servers keep running): SIGTERM to the supervisor, then
 * `mm up -d` on the same gateway port with `env` added, e.g. MM_TRACE=off.
 */
export const restartRunners = async (ctx: PlatformCtx, env: Record<string, string>): Promise<PlatformCtx> => {
  const s = JSON.parse(readFileSync(join(ctx.cwd, '.mm', 'state.json'), 'utf8')) as {supervisor?: {pid: number}}
  const pid = s.supervisor?.pid
  if (pid) {
    process.kill(pid, 'SIGTERM')
    const deadline = Date.now() + 60_000
    while (existsSync(`/proc/${pid}`) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
  }
  const up = spawnSync(process.execPath, [ctx.bin, 'up', '-d', '--http-port', new URL(ctx.gateway).port], {
    cwd: ctx.cwd,
    encoding: 'utf8',
    env: {...process.env, CI: 'true', ...env},
  })
  if (up.status !== 0) throw new Error(`mm up -d exited ${up.status}: ${up.stderr}`)
  return platformCtx(ctx.cwd, ctx.bin)
}

export interface TracingRun {
  /** POST /orders → PAID at a fixed 50 orders/s, median. */
  p50: number
  /** CPU of the runners' process (the supervisor) per order completed at 50/s, in ms. */
  runnerCpuMs: number
  /** Orders completed per second when asked for more than the platform carries (150/s). */
  saturated: number
}

/** The order flow measured twice: at 50/s (latency, the runners' CPU) and at 150/s, more than it carries (throughput). */
export const tracingRun = (ctx: PlatformCtx): TracingRun => {
  const pid = (JSON.parse(readFileSync(join(ctx.cwd, '.mm', 'state.json'), 'utf8')) as {supervisor: {pid: number}}).supervisor.pid
  const cpu0 = cpuSeconds(pid)
  const steady = loadOrders(ctx, ['--rate', '50', '--duration', '20s', '--warmup', '3s', '--concurrency', '200'])
  const runnerCpuMs = ((cpuSeconds(pid) - cpu0) * 1000) / Math.max(steady.completed, 1)
  const flat = loadOrders(ctx, ['--rate', '150', '--concurrency', '400', '--duration', '15s', '--warmup', '3s'])
  return {p50: steady.latencyMs.p50!, runnerCpuMs, saturated: flat.throughputPerSec}
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

/**
 * What tracing costs: the same order flow with MM_TRACE=off and with tracing at the default
 * sampling, alternated `rounds` times on the same servers (only the runners restart), so the
 * platform's growth and the VM's drift fall on both arms alike; each figure is the median of its
 * arm. Leaves the runners traced, as they were.
 */
export const benchTracing = async (ctx: PlatformCtx, rounds = 3): Promise<{on: TracingRun; off: TracingRun; rounds: number; ctx: PlatformCtx}> => {
  const runs: {on: TracingRun[]; off: TracingRun[]} = {on: [], off: []}
  let c = ctx
  for (let i = 0; i < rounds; i++) {
    for (const arm of ['off', 'on'] as const) {
      c = await restartRunners(c, {MM_TRACE: arm})
      runs[arm].push(tracingRun(c))
    }
  }
  const summary = (xs: TracingRun[]): TracingRun => ({
    p50: median(xs.map((x) => x.p50)),
    runnerCpuMs: median(xs.map((x) => x.runnerCpuMs)),
    saturated: median(xs.map((x) => x.saturated)),
  })
  return {on: summary(runs.on), off: summary(runs.off), rounds, ctx: c}
}
