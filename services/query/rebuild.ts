import type {Db, Document} from 'mongodb'
import type pg from 'pg'

import {applyCustomers, applyOrders, applyProducts, ConcurrentViewChange, type Versioned} from './apply.js'
import {databaseNow, expectedDocuments, type Queryable, SOURCES} from './sources.js'
import {copyIndexes, copySwap, renameSwap, shadowOf} from './swap.js'
import {VIEW_ORDER} from './verify.js'
import {VIEW_COLLECTIONS, type ViewKey, type ViewName, type Views, views} from './views.js'

/**
 * `mm projections rebuild`, the storage side. The views are rebuilt from the write models into
 * shadow collections while the platform runs, then swapped in:
 *
 * 1. build: each view's shadow (`<view>__rebuild`, dropped first: a killed rebuild leaves one)
 *    filled page by page with the documents the write models call for (sources.ts);
 * 2. catch up: what changed in the write models meanwhile (rows whose `updated_at` is at most
 *    `marginMs` before the previous round began) applied to the shadows by the projector's own
 *    apply functions, only where newer than the shadow's version, in rounds until one finds little;
 * 3. swap (no longer interruptible): `rename` — renameCollection with dropTarget, atomic on
 *    MongoDB (readers see the old collection or the new one); `copy` — for servers where it is
 *    not (mongo-java-server: drop then move, see the README), each document of the live view that
 *    differs from the write model is replaced, guarded by what was read (the projector may be
 *    writing it), and documents the write model does not have are deleted: readers always see a
 *    whole view, each document old or mended, never a half-built one;
 * 4. catch up again, on the live views: events that reached the old collection between the last
 *    round and the swap are applied again from the write model. Applying a state the view already
 *    has is a no-op (version guard), so this is exact whichever of the two came first.
 *
 * Interrupted (signal) before the swap, the shadows are dropped and the live views were never
 * touched; killed, the shadows stay until the next rebuild drops them. One rebuild at a time: a
 * PostgreSQL advisory lock held for the whole run (released by the server if the process dies).
 */

export type SwapStrategy = 'rename' | 'copy'
export {SHADOW_SUFFIX, shadowOf} from './swap.js'

export interface RebuildProgress {
  phase: 'build' | 'catch-up' | 'swap' | 'after-swap'
  view: ViewName
  done: number
  total: number
}

export interface RebuildOptions {
  views?: ViewKey[]
  swap: SwapStrategy
  batchSize?: number
  /** Honoured until the swap begins. */
  signal?: AbortSignal
  onProgress?: (p: RebuildProgress) => void
  /** How long before its commit a write-model change may be timestamped (transaction length, clock skew of the writers). */
  marginMs?: number
}

export interface RebuildViewResult {
  view: ViewName
  /** Documents written into the shadow from the write model. */
  built: number
  /** Changes applied to the shadow after it was built. */
  caughtUp: number
  /** Documents of the live view the swap wrote (rename: all of them). */
  written: number
  /** Documents of the live view deleted (copy; with rename they went with the old collection). */
  removed: number
  /** Changes applied to the live view after the swap. */
  afterSwap: number
}

export interface RebuildOutcome {
  swap: SwapStrategy
  views: RebuildViewResult[]
  interrupted: boolean
}

export class RebuildInProgress extends Error {
  override name = 'RebuildInProgress'
}

class Interrupted extends Error {}

const LOCK = 'mm.projections.rebuild'
const DEFAULT_MARGIN_MS = 60_000

const applyTo = (key: ViewKey, target: Views, rows: Versioned<unknown>[]): Promise<unknown> =>
  key === 'customers' ? applyCustomers(target, rows as never) : key === 'products' ? applyProducts(target, rows as never) : applyOrders(target, rows as never)

export const rebuildViews = async ({pool, db}: {pool: pg.Pool; db: Db}, opts: RebuildOptions): Promise<RebuildOutcome> => {
  const keys = VIEW_ORDER.filter((k) => (opts.views ?? VIEW_ORDER).includes(k))
  const batch = opts.batchSize ?? 500
  const margin = opts.marginMs ?? DEFAULT_MARGIN_MS
  const results = new Map<ViewKey, RebuildViewResult>(
    keys.map((k) => [k, {view: VIEW_COLLECTIONS[k], built: 0, caughtUp: 0, written: 0, removed: 0, afterSwap: 0}]),
  )
  const shadows = views(db, Object.fromEntries(keys.map((k) => [k, shadowOf(VIEW_COLLECTIONS[k])])))
  const dropShadows = () => Promise.allSettled(keys.map((k) => db.collection(shadowOf(VIEW_COLLECTIONS[k])).drop()))
  const checkpoint = () => {
    if (opts.signal?.aborted) throw new Interrupted()
  }

  const lock = await pool.connect()
  try {
    const {rows} = await lock.query<{locked: boolean}>('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [LOCK])
    if (!rows[0]?.locked) throw new RebuildInProgress('another rebuild of the views is running')
    try {
      const started = await databaseNow(pool)
      let since: Date
      try {
        // 1. Build.
        await dropShadows()
        for (const key of keys) {
          await build(pool, db, key, batch, results.get(key)!, opts, checkpoint)
          if (opts.swap === 'rename') await copyIndexes(db, VIEW_COLLECTIONS[key])
        }
        // 2. Catch up, in rounds, until a round finds less than a batch to apply.
        since = new Date(started.getTime() - margin)
        for (let round = 0; round < 5; round++) {
          const roundStart = await databaseNow(pool)
          const applied = await catchUp(pool, shadows, keys, since, batch, (key, n) => (results.get(key)!.caughtUp += n), 'catch-up', opts, checkpoint)
          since = new Date(roundStart.getTime() - margin)
          if (applied < batch) break
        }
        checkpoint()
      } catch (error) {
        await dropShadows()
        if (error instanceof Interrupted) return {swap: opts.swap, views: [...results.values()], interrupted: true}
        throw error
      }
      // 3. Swap, then 4. catch up on the live views. Not interruptible from here on.
      for (const key of keys) {
        const result = results.get(key)!
        if (opts.swap === 'rename') await renameSwap(db, result)
        else await copySwap(pool, db, key, batch, result, opts)
      }
      await catchUp(
        pool,
        views(db),
        keys,
        since,
        batch,
        (key, n) => (results.get(key)!.afterSwap += n),
        'after-swap',
        opts,
        () => {},
      )
      if (opts.swap === 'copy') await dropShadows()
      return {swap: opts.swap, views: [...results.values()], interrupted: false}
    } finally {
      await lock.query('SELECT pg_advisory_unlock(hashtext($1))', [LOCK]).catch(() => {})
    }
  } finally {
    lock.release()
  }
}

/** The shadow of one view, page by page from the write model. */
const build = async (
  pool: Queryable,
  db: Db,
  key: ViewKey,
  batch: number,
  result: RebuildViewResult,
  opts: RebuildOptions,
  checkpoint: () => void,
): Promise<void> => {
  const shadow = db.collection<Document>(shadowOf(result.view))
  await db.createCollection(shadowOf(result.view)) // even with no rows: the swap needs it
  const source = SOURCES[key]
  const total = await source.count(pool)
  let after: string | undefined
  for (;;) {
    checkpoint()
    const rows = (await source.page(pool, after, batch)) as Versioned<{id: string}>[]
    if (rows.length === 0) break
    after = rows.at(-1)!.data.id
    await shadow.insertMany((await expectedDocuments(pool, key, rows)) as Document[], {ordered: false})
    result.built += rows.length
    opts.onProgress?.({phase: 'build', view: result.view, done: result.built, total: Math.max(total, result.built)})
  }
}

/**
 * Applies to `target` the write-model rows changed since `since` that are newer than the
 * documents there, through the projector's own apply functions (version guards, name copies).
 * Returns how many were applied.
 */
const catchUp = async (
  pool: Queryable,
  target: Views,
  keys: ViewKey[],
  since: Date,
  batch: number,
  count: (key: ViewKey, n: number) => void,
  phase: 'catch-up' | 'after-swap',
  opts: RebuildOptions,
  checkpoint: () => void,
): Promise<number> => {
  let applied = 0
  for (const key of keys) {
    // Ids and versions first: most rows changed in the window are already there (the margin is generous).
    const changed = await SOURCES[key].versionsSince(pool, since)
    let done = 0
    for (let i = 0; i < changed.length; i += batch) {
      checkpoint()
      const chunk = changed.slice(i, i + batch)
      for (let attempt = 1; ; attempt++) {
        const held = new Map(
          (await target[key].find({_id: {$in: chunk.map((r) => r.id)}} as never, {projection: {version: 1}}).toArray()).map((d) => [
            String(d._id),
            d.version as number,
          ]),
        )
        const stale = chunk.filter((r) => (held.get(r.id) ?? 0) < r.version).map((r) => r.id)
        if (stale.length === 0) break
        // The rows as they are now (they may have moved on since their version was read).
        const newer = ((await SOURCES[key].byIds(pool, stale)) as Versioned<{id: string}>[]).filter((r) => (held.get(r.data.id) ?? 0) < r.version)
        try {
          await applyTo(key, target, newer)
          applied += newer.length
          count(key, newer.length)
          break
        } catch (error) {
          // A runner wrote one of these documents meanwhile: read again and apply what is still newer.
          if (!(error instanceof ConcurrentViewChange) || attempt >= 5) throw error
        }
      }
      done += chunk.length
      opts.onProgress?.({phase, view: VIEW_COLLECTIONS[key], done, total: changed.length})
    }
  }
  return applied
}
