import {execFileSync, spawnSync} from 'node:child_process'
import {randomUUID} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {pipeline} from 'node:stream/promises'
import {Readable} from 'node:stream'

import amqp from 'amqplib'
import pg from 'pg'
import {from as copyFrom} from 'pg-copy-streams'

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

const mmJson = <T>(ctx: PlatformCtx, args: string[]): T => JSON.parse(execFileSync(process.execPath, [ctx.bin, ...args, '--json'], {cwd: ctx.cwd, encoding: 'utf8', env: {...process.env, CI: 'true'}, maxBuffer: 64 << 20})) as T

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

/** Ingest throughput vs a raw drain (a consumer that only acks) of the same messages. */
export const benchIngest = async (ctx: PlatformCtx, n: number): Promise<{ingestPerSec: number; rawPerSec: number}> => {
  // Raw: publish to a scratch queue while a plain consumer acks.
  const conn = await amqp.connect(ctx.rabbitmq)
  const ch = await conn.createChannel()
  const q = `bench.raw.${randomUUID()}`
  await ch.assertQueue(q, {durable: true})
  await ch.prefetch(50)
  let acked = 0
  let done!: () => void
  const all = new Promise<void>((r) => (done = r))
  await ch.consume(q, (m) => {
    if (!m) return
    ch.ack(m)
    if (++acked === n) done()
  })
  let t0 = performance.now()
  await publish(ctx.rabbitmq, q, n, 50)
  await all
  const rawPerSec = n / ((performance.now() - t0) / 1000)
  await ch.deleteQueue(q)
  await conn.close()

  // Ingest: the same through the platform's pulses queue, until the runner handled them all.
  const before = await handledBy(ctx, 'ingest')
  t0 = performance.now()
  await publish(ctx.rabbitmq, 'pulses', n, 50)
  while ((await handledBy(ctx, 'ingest')) < before + n) await new Promise((r) => setTimeout(r, 20))
  const ingestPerSec = n / ((performance.now() - t0) / 1000)
  return {ingestPerSec, rawPerSec}
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
  // The same rows into a table of the same shape (its unique key and defaults included).
  await client.query('CREATE TEMP TABLE bench_copy (LIKE ingest.pulses INCLUDING ALL)')
  const lines = Array.from({length: keys}, (_, i) => `bench\tSKU-${i}\treq\t0.1\n`).join('')
  const t0 = performance.now()
  await pipeline(Readable.from([lines]), client.query(copyFrom('COPY bench_copy (tenant, product_sku, use_unity, used_amount) FROM STDIN')))
  const copyMs = performance.now() - t0
  await client.end()
  return {flushRowsPerSec: flush.rows / (flush.durationMs / 1000), copyRowsPerSec: keys / (copyMs / 1000), rows: flush.rows}
}

/** Order flow at a fixed rate: median latency from POST /orders to PAID in the read model. */
export const benchOrders = (ctx: PlatformCtx, rate: number, seconds: number): {p50: number; p99: number; completed: number; throughput: number} => {
  mmJson(ctx, ['seed', '--customers', '50', '--products', '100'])
  const r = spawnSync(process.execPath, [ctx.bin, 'load', 'orders', '--rate', String(rate), '--duration', `${seconds}s`, '--warmup', '2s', '--concurrency', '200', '--json'], {cwd: ctx.cwd, encoding: 'utf8', env: {...process.env, CI: 'true'}})
  const s = JSON.parse(r.stdout) as {latencyMs: Record<string, number>; completed: number; throughputPerSec: number}
  return {p50: s.latencyMs.p50!, p99: s.latencyMs.p99!, completed: s.completed, throughput: s.throughputPerSec}
}

/** CPU of `mm dash` refreshing every second in a real terminal (tmux), as % of one core. */
export const benchDash = async (ctx: PlatformCtx, seconds: number): Promise<number | undefined> => {
  if (spawnSync('sh', ['-c', 'command -v tmux']).status !== 0) return undefined
  const session = `mm-bench-dash-${process.pid}`
  spawnSync('tmux', ['new-session', '-d', '-s', session, '-x', '160', '-y', '48', `cd ${ctx.cwd} && env -u CI ${process.execPath} ${ctx.bin} dash`])
  try {
    await new Promise((r) => setTimeout(r, 4000)) // start-up and first polls
    const pid = Number(execFileSync('pgrep', ['-f', `${ctx.bin} dash`], {encoding: 'utf8'}).trim().split('\n').pop())
    const ticks = () => {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').slice(readFileSync(`/proc/${pid}/stat`, 'utf8').lastIndexOf(')') + 2).split(' ')
      return Number(f[11]) + Number(f[12]) // utime + stime, in clock ticks
    }
    const hz = Number(execFileSync('getconf', ['CLK_TCK'], {encoding: 'utf8'}).trim())
    const t0 = ticks()
    const w0 = performance.now()
    await new Promise((r) => setTimeout(r, seconds * 1000))
    return ((ticks() - t0) / hz / ((performance.now() - w0) / 1000)) * 100
  } finally {
    spawnSync('tmux', ['kill-session', '-t', session])
  }
}

