/**
 * Verify and rebuild rates of the read model (`mm projections verify | rebuild`), in documents per
 * second on a platform holding `orders` orders, each beside a raw baseline in the same run:
 * - verify against a raw read of the same data in the same pages (write-model rows by primary
 *   key, their documents by `_id`), comparing nothing;
 * - rebuild against a raw copy of the same rows into a scratch collection (one insertMany a page).
 *
 * Part of `npm run bench` (bench/run.ts, on its platform topped up to 20,000 orders). Alone, on a
 * platform of its own in a temporary directory:
 *
 *   npm run build && node dist/bench/projections.js --orders 20000
 */
import {spawnSync} from 'node:child_process'
import {chmodSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'

import {type Document, MongoClient} from 'mongodb'
import pg from 'pg'

import {expectedDocuments, SOURCES} from '../services/query/sources.js'
import {VIEW_COLLECTIONS, type ViewKey} from '../services/query/views.js'
import {packageRoot} from '../src/lib/package-root.js'
import {type PlatformCtx, platformCtx} from './platform.js'

const KEYS: ViewKey[] = ['customers', 'products', 'orders']
const PAGE = 500

/** Runs `mm <args> --json` and parses its stdout, whatever the exit code (verify exits 1 on differences). */
const mmJson = <T>(ctx: PlatformCtx, args: string[]): T => {
  const r = spawnSync(process.execPath, [ctx.bin, ...args, '--json'], {cwd: ctx.cwd, encoding: 'utf8', env: {...process.env, CI: 'true'}, maxBuffer: 64 << 20})
  if (!r.stdout.trim()) throw new Error(`mm ${args.join(' ')} printed nothing (exit ${r.status}): ${r.stderr}`)
  return JSON.parse(r.stdout) as T
}

const mongoUrl = (ctx: PlatformCtx): string =>
  (JSON.parse(readFileSync(join(ctx.cwd, '.mm', 'state.json'), 'utf8')) as {servers: Record<string, {url: string}>}).servers.mongo!.url

/** Every row of the three tables in pages, each page's documents fetched by `_id`; `copyTo` also inserts the rows' documents there. */
const rawPass = async (pool: pg.Pool, mongo: MongoClient, copyTo?: string): Promise<{documents: number; ms: number}> => {
  const db = mongo.db('mercadomio')
  const t0 = performance.now()
  let documents = 0
  for (const key of KEYS) {
    let after: string | undefined
    for (;;) {
      const rows = await SOURCES[key].page(pool, after, PAGE)
      if (rows.length === 0) break
      after = (rows.at(-1)!.data as {id: string}).id
      const ids = rows.map((r) => (r.data as {id: string}).id)
      if (copyTo) await db.collection(copyTo).insertMany((await expectedDocuments(pool, key, rows)) as Document[], {ordered: false})
      else
        await db
          .collection(VIEW_COLLECTIONS[key])
          .find({_id: {$in: ids}} as never)
          .toArray()
      documents += rows.length
    }
  }
  return {documents, ms: performance.now() - t0}
}

export interface ProjectionsBench {
  orders: number
  verify: {docsPerSec: number; documents: number; ms: number; ok: boolean}
  rebuild: {docsPerSec: number; documents: number; ms: number; swap: string; ok: boolean}
  rawRead: {docsPerSec: number}
  rawCopy: {docsPerSec: number}
}

/** Tops the platform up to `orders` orders (through the API, each paid), lets it drain, then measures. */
export const benchProjections = async (ctx: PlatformCtx, orders: number): Promise<ProjectionsBench> => {
  const pool = new pg.Pool({connectionString: ctx.postgres, max: 4})
  const mongo = new MongoClient(mongoUrl(ctx), {directConnection: true})
  await mongo.connect()
  try {
    // Orders the generator could not complete are not stored: top up until the platform holds enough.
    for (let round = 0; round < 5; round++) {
      const held = await SOURCES.orders.count(pool)
      if (held >= orders) break
      if (round === 0) mmJson(ctx, ['seed', '--customers', '50', '--products', '100'])
      mmJson(ctx, ['load', 'orders', '--rate', '200', '--total', String(orders - held), '--concurrency', '400', '--step-timeout', '120s'])
    }
    mmJson(ctx, ['wait', '--for', 'drained', '--timeout', '10m'])
    const total = await SOURCES.orders.count(pool)

    const read = await rawPass(pool, mongo)
    const verify = mmJson<{docsPerSec: number; rows: number; durationMs: number; ok: boolean}>(ctx, ['projections', 'verify'])
    const scratch = `bench_copy_${process.pid}`
    const copy = await rawPass(pool, mongo, scratch)
    await mongo.db('mercadomio').collection(scratch).drop()
    const rebuild = mmJson<{docsPerSec: number; documents: number; durationMs: number; swap: string; ok: boolean}>(ctx, ['projections', 'rebuild', '--yes'])
    return {
      orders: total,
      verify: {docsPerSec: verify.docsPerSec, documents: verify.rows, ms: verify.durationMs, ok: verify.ok},
      rebuild: {docsPerSec: rebuild.docsPerSec, documents: rebuild.documents, ms: rebuild.durationMs, swap: rebuild.swap, ok: rebuild.ok},
      rawRead: {docsPerSec: Math.round(read.documents / (read.ms / 1000))},
      rawCopy: {docsPerSec: Math.round(copy.documents / (copy.ms / 1000))},
    }
  } finally {
    await Promise.allSettled([pool.end(), mongo.close()])
  }
}

/** The rows bench/run.ts writes into BENCHMARKS.md. */
export const projectionsRows = (b: ProjectionsBench) => [
  {
    what: `\`mm projections verify\` on ${b.orders.toLocaleString('en-US')} orders (${b.verify.documents.toLocaleString('en-US')} documents, catch-up wait included)`,
    value: `${b.verify.docsPerSec} docs/s${b.verify.ok ? '' : ' (found differences)'}`,
    baseline: `raw read of the same pages ${b.rawRead.docsPerSec} docs/s`,
    ratio: (b.verify.docsPerSec / b.rawRead.docsPerSec).toFixed(2),
    target: '-',
    ok: true,
  },
  {
    what: `\`mm projections rebuild\` on ${b.orders.toLocaleString('en-US')} orders (${b.rebuild.documents.toLocaleString('en-US')} documents built, swap by ${b.rebuild.swap}, final verify not counted)`,
    value: `${b.rebuild.docsPerSec} docs/s${b.rebuild.ok ? '' : ' (verify after it found differences)'}`,
    baseline: `raw copy into a collection ${b.rawCopy.docsPerSec} docs/s`,
    ratio: (b.rebuild.docsPerSec / b.rawCopy.docsPerSec).toFixed(2),
    target: '-',
    ok: true,
  },
]

const main = async () => {
  const at = process.argv.indexOf('--orders')
  const orders = at > 0 ? Number(process.argv[at + 1]) : 20_000
  if (!Number.isInteger(orders) || orders < 1) throw new Error('--orders must be a positive integer')
  const bin = join(packageRoot(), 'bin', 'run.js')
  const cwd = mkdtempSync('/tmp/mm-bench-projections-')
  chmodSync(cwd, 0o755)
  try {
    const up = spawnSync(process.execPath, [bin, 'up', '--infra', 'native', '-d', '--http-port', '0'], {
      cwd,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {...process.env, CI: 'true'},
      encoding: 'utf8',
    })
    if (up.status !== 0) throw new Error(`mm up failed: ${up.stderr}`)
    const b = await benchProjections(platformCtx(cwd, bin), orders)
    for (const r of projectionsRows(b)) process.stdout.write(`${r.what}: ${r.value} — baseline ${r.baseline}, ratio ${r.ratio}\n`)
    process.stdout.write(`${JSON.stringify(b)}\n`)
  } finally {
    spawnSync(process.execPath, [bin, 'down', '-v'], {cwd, stdio: 'ignore'})
    rmSync(cwd, {recursive: true, force: true})
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main()
