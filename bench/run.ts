/**
 * `npm run bench`: measures mm against raw baselines in the same run and writes BENCHMARKS.md.
 * Numbers, not assertions: the targets of PLATFORM.md §7 are compared and reported.
 */
import {execFileSync, spawnSync} from 'node:child_process'
import {chmodSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {cpus} from 'node:os'
import {join} from 'node:path'

import {packageRoot} from '../src/lib/package-root.js'
import {benchDash, benchFlush, benchIngest, benchOrders, platformCtx} from './platform.js'

const root = packageRoot()
const bin = join(root, 'bin', 'run.js')

const timeOnce = (file: string, args: string[], cwd = root): number => {
  const t0 = process.hrtime.bigint()
  const r = spawnSync(file, args, {cwd, stdio: ['ignore', 'ignore', 'pipe'], env: {...process.env, CI: 'true'}})
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  if (r.status !== 0) throw new Error(`${file} ${args.join(' ')} exited ${r.status}: ${r.stderr}`)
  return ms
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

const sample = (runs: number, fn: () => number): number => {
  fn() // warm the file cache
  return median(Array.from({length: runs}, fn))
}

interface Row {
  what: string
  value: string
  baseline: string
  ratio: string
  target: string
  ok: boolean
}

const rows: Row[] = []

// mm --version against node -e 0
const nodeMs = sample(15, () => timeOnce(process.execPath, ['-e', '0']))
const versionMs = sample(15, () => timeOnce(process.execPath, [bin, '--version']))
rows.push({what: '`mm --version`', value: `${versionMs.toFixed(0)} ms`, baseline: `\`node -e 0\` ${nodeMs.toFixed(0)} ms`, ratio: `${(versionMs / nodeMs).toFixed(2)}x`, target: '≤ 3x', ok: versionMs / nodeMs <= 3})
const helpMs = sample(5, () => timeOnce(process.execPath, [bin, '--help']))
rows.push({what: '`mm --help`', value: `${helpMs.toFixed(0)} ms`, baseline: `\`node -e 0\` ${nodeMs.toFixed(0)} ms`, ratio: `${(helpMs / nodeMs).toFixed(2)}x`, target: '-', ok: true})

// mm up --infra native from cold, then on a running platform
const cwd = mkdtempSync('/tmp/mm-bench-')
chmodSync(cwd, 0o755)
try {
  const coldMs = timeOnce(process.execPath, [bin, 'up', '--infra', 'native', '-d', '--http-port', '0'], cwd)
  rows.push({what: '`mm up --infra native -d`, cold (fresh data dir)', value: `${(coldMs / 1000).toFixed(1)} s`, baseline: '-', ratio: '-', target: '≤ 45 s', ok: coldMs <= 45_000})
  const warmMs = median([0, 1, 2].map(() => timeOnce(process.execPath, [bin, 'up'], cwd)))
  rows.push({what: '`mm up` on a running platform', value: `${(warmMs / 1000).toFixed(2)} s`, baseline: '-', ratio: '-', target: '≤ 2 s', ok: warmMs <= 2000})
  const statusMs = median([0, 1, 2].map(() => timeOnce(process.execPath, [bin, 'status', '--json'], cwd)))
  rows.push({what: '`mm status --json`', value: `${(statusMs / 1000).toFixed(2)} s`, baseline: '-', ratio: '-', target: '-', ok: true})

  const ctx = platformCtx(cwd, bin)
  const ingest = await benchIngest(ctx, 20_000)
  rows.push({what: 'ingest throughput (20,000 pulses)', value: `${ingest.ingestPerSec.toFixed(0)} msg/s`, baseline: `raw RabbitMQ drain ${ingest.rawPerSec.toFixed(0)} msg/s`, ratio: `${(ingest.ingestPerSec / ingest.rawPerSec).toFixed(2)}`, target: '≥ 0.80', ok: ingest.ingestPerSec / ingest.rawPerSec >= 0.8})
  const fl = await benchFlush(ctx, 5000)
  rows.push({what: `flush throughput (${fl.rows} keys)`, value: `${fl.flushRowsPerSec.toFixed(0)} rows/s`, baseline: `raw COPY ${fl.copyRowsPerSec.toFixed(0)} rows/s`, ratio: `${(fl.flushRowsPerSec / fl.copyRowsPerSec).toFixed(2)}`, target: '≥ 0.50', ok: fl.flushRowsPerSec / fl.copyRowsPerSec >= 0.5})
  const dashCpu = await benchDash(ctx, 15)
  if (dashCpu !== undefined) rows.push({what: '`mm dash` refreshing every 1 s, platform idle (CPU of one core)', value: `${dashCpu.toFixed(1)} %`, baseline: '-', ratio: '-', target: '< 10 %', ok: dashCpu < 10})
  const light = benchOrders(ctx, 10, 15)
  rows.push({what: 'order flow at 10/s: median POST → PAID in read model', value: `${light.p50} ms (p99 ${light.p99} ms, ${light.throughput}/s done)`, baseline: '-', ratio: '-', target: '-', ok: true})
  const orders = benchOrders(ctx, 100, 15)
  rows.push({what: 'order flow at 100/s: median POST → PAID in read model', value: `${orders.p50} ms (p99 ${orders.p99} ms, ${orders.throughput}/s done)`, baseline: '-', ratio: '-', target: '< 50 ms', ok: orders.p50 < 50})
  const downMs = timeOnce(process.execPath, [bin, 'down', '-v'], cwd)
  rows.push({what: '`mm down -v`', value: `${(downMs / 1000).toFixed(1)} s`, baseline: '-', ratio: '-', target: '-', ok: true})
} finally {
  spawnSync(process.execPath, [bin, 'down', '-v'], {cwd, stdio: 'ignore'})
  rmSync(cwd, {recursive: true, force: true})
}

const cpu = cpus()[0]?.model ?? 'unknown CPU'
const version = execFileSync(process.execPath, [bin, '--version'], {encoding: 'utf8'}).trim()
const md = `# Benchmarks

Written by \`npm run bench\` (bench/run.ts); each figure is measured in the same run as its baseline.
Medians of repeated runs where it says so; a cold start is one run. Targets: PLATFORM.md §7.

- when: ${new Date().toISOString()}
- machine: ${cpus().length} cores (${cpu}), Node ${process.versions.node}
- mm: ${version}

| what | measured | baseline | ratio | target | met |
|---|---|---|---|---|---|
${rows.map((r) => `| ${r.what} | ${r.value} | ${r.baseline} | ${r.ratio} | ${r.target} | ${r.target === '-' ? '' : r.ok ? 'yes' : '**no**'} |`).join('\n')}

## Reading these numbers

- Everything runs on the same 2 cores: the five servers (two of them JVMs), the runners, and the
  load generator itself. Ratios between runs of this file moved by ±0.2 on this machine (the raw
  RabbitMQ drain alone varied from 6,000 to 15,000 msg/s), so compare ratios, not absolutes, and
  rerun before concluding.
- Order flow: at 10 orders/s an order goes from \`POST /orders\` to PAID in the read model in about
  the target time; at 100/s the machine saturates (all cores busy, split between the runners'
  process, PostgreSQL, the Mongo-compatible server, Kafka and the generator) and completes about
  20-35 orders/s, so the latency is queueing. Profiles show the runners' time going mostly to socket
  writes (each order is about 25 database and broker round trips across five components) rather
  than to JavaScript. Not met on this machine; the next steps are fewer round trips per event
  (batching consumer transactions, one Mongo write per projection) and measuring on a machine where
  the generator does not share the cores.
- Flush: the baseline is a \`COPY\` of the same rows into a table of the same shape (its unique key
  included) that starts empty; the flush reads the snapshot from Redis and upserts into rows that
  already exist. Not met; a \`COPY\` into a temporary table followed by one upsert is the next thing
  to try.
`
writeFileSync(join(root, 'BENCHMARKS.md'), md)
process.stdout.write(md)
