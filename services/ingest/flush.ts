import {randomUUID} from 'node:crypto'

import type {Redis} from 'ioredis'
import type pg from 'pg'

import type {Namespace} from '../shared/naming.js'
import type {Logger} from '../shared/logger.js'
import {withTransaction} from '../shared/db.js'
import {ingestKeys, runScript} from './keys.js'
import {addChunk, claimFlush, createStaging, finishFlush, newRowsWriter} from './repository.js'
import {type ChunkOptions, snapshotChunks} from './snapshot.js'

/*
 * The flush, exactly once and crash-safe (full reasoning in services/ingest/FLUSH.md):
 *  1. snapshot (one Lua script): if a snapshot is pending, resume it (all of them) instead;
 *     otherwise RENAME the live hash to `ingest:flush:<id>` and add <id> to the pending set.
 *     New increments create a fresh live hash, so they belong to the next flush.
 *  2. ONE PostgreSQL transaction: INSERT <id> into ingest.flushes (primary key). Already there →
 *     the snapshot was applied before (crash after commit) → only clean up. Else add every total
 *     to ingest.pulses, commit: the snapshot is read with HSCAN in pages and written in chunks
 *     while the next chunk is read; chunks of new keys are COPYed straight into ingest.pulses,
 *     the others upserted (COPY into a temporary table, one INSERT … ON CONFLICT per chunk).
 *     A second flush resuming the same id blocks on that key until the first commits (then
 *     skips) or rolls back (then applies).
 *  3. clean up (one Lua script): UNLINK the snapshot hash, SREM the id.
 * A crash between 1 and 2 leaves the snapshot pending: the next flush applies it. A crash
 * between 2 and 3 leaves it pending too: the next flush finds the id in the ledger and skips it.
 */

export interface FlushHooks {
  /** After this flush created its snapshot, before the PostgreSQL transaction. */
  afterSnapshot?: (flushId: string) => void | Promise<void>
  /** Inside the transaction, after the upserts, before COMMIT (throwing rolls back). */
  beforeCommit?: (flushId: string) => void | Promise<void>
  /** After COMMIT, before the snapshot is deleted from Redis. */
  afterCommit?: (flushId: string) => void | Promise<void>
}

export interface FlushDeps {
  pool: pg.Pool
  redis: Redis
  ns: Namespace
  logger: Logger
  hooks?: FlushHooks
  /** Page and chunk sizes of the snapshot read (defaults suit a 2-core machine; tests shrink them). */
  chunks?: ChunkOptions
}

export interface FlushResult {
  /** The last snapshot this call handled; null when there was nothing to flush. */
  flushId: string | null
  /** Aggregate keys (tenant, sku, unity) moved to PostgreSQL by this call. */
  keys: number
  /** Rows of ingest.pulses inserted or updated by this call. */
  rows: number
  durationMs: number
  /** Pending snapshots of an earlier, interrupted or concurrent flush that this call finished. */
  resumed: string[]
}

const SNAPSHOT = `
local pending = redis.call('SMEMBERS', KEYS[2])
if #pending > 0 then return pending end
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
redis.call('RENAME', KEYS[1], KEYS[3])
redis.call('SADD', KEYS[2], ARGV[1])
return {ARGV[1]}
`

const CLEANUP = `
redis.call('UNLINK', KEYS[2])
return redis.call('SREM', KEYS[1], ARGV[1])
`

export const flushNow = async (deps: FlushDeps): Promise<FlushResult> => {
  const started = Date.now()
  const k = ingestKeys(deps.ns)
  const result: FlushResult = {flushId: null, keys: 0, rows: 0, durationMs: 0, resumed: []}
  // Round 1 may only resume older snapshots; round 2 then takes this call's own snapshot.
  for (let round = 0; round < 2; round++) {
    const id = randomUUID()
    const ids = ((await runScript(deps.redis, SNAPSHOT, [k.live, k.pendingSet, k.pendingHash(id)], [id])) as string[]).sort()
    if (ids.length === 0) break
    const created = ids.includes(id)
    if (created) await deps.hooks?.afterSnapshot?.(id)
    else result.resumed.push(...ids)
    for (const flushId of ids) {
      const applied = await applySnapshot(deps, flushId)
      result.keys += applied.keys
      result.rows += applied.rows
      await deps.hooks?.afterCommit?.(flushId)
      await runScript(deps.redis, CLEANUP, [k.pendingSet, k.pendingHash(flushId)], [flushId])
      result.flushId = flushId
    }
    if (created) break
  }
  result.durationMs = Date.now() - started
  await deps.redis.hset(k.lastFlush, {
    lastAt: new Date().toISOString(),
    lastFlushId: result.flushId ?? '',
    lastKeys: result.keys,
    lastRows: result.rows,
    lastDurationMs: result.durationMs,
  })
  deps.logger.info('ingest.flushed', {flushId: result.flushId, keys: result.keys, rows: result.rows, resumed: result.resumed.length, ms: result.durationMs})
  return result
}

/** Savepoints per flush transaction: PostgreSQL tracks 64 subtransactions per backend cheaply. */
const MAX_SAVEPOINTS = 32

/** Step 2 for one snapshot; a deadlock (impossible while snapshots are applied one at a time, FLUSH.md) would be retried. */
const applySnapshot = async (deps: FlushDeps, flushId: string): Promise<{keys: number; rows: number}> => {
  for (let attempt = 1; ; attempt++) {
    try {
      return await withTransaction(deps.pool, async (client) => {
        if (!(await claimFlush(client, flushId))) {
          deps.logger.info('ingest.flush_already_applied', {flushId})
          return {keys: 0, rows: 0}
        }
        let keys = 0
        let rows = 0
        // Chunk n+1 is read from Redis (and parsed) while chunk n is written to PostgreSQL.
        const chunks = snapshotChunks(deps.redis, ingestKeys(deps.ns).pendingHash(flushId), deps.chunks)
        const ahead = () => {
          const next = chunks.next()
          next.catch(() => {}) // awaited below; only keeps a read abandoned by a failed write from being unhandled
          return next
        }
        // New keys are COPYed straight into ingest.pulses until a chunk meets a key that has a row;
        // from then on (and past MAX_SAVEPOINTS) every chunk is upserted through the staging table.
        let savepoints = 0
        let staged = false
        const fresh = newRowsWriter(client)
        try {
          for (let next = ahead(); ;) {
            const chunk = await next
            if (chunk.done) break
            next = ahead()
            let written = savepoints < MAX_SAVEPOINTS ? await fresh.insert(chunk.value.text, chunk.value.first) : undefined
            savepoints = written === undefined ? MAX_SAVEPOINTS : savepoints + 1
            if (written === undefined) {
              await fresh.release()
              if (!staged) await createStaging(client)
              staged = true
              written = await addChunk(client, chunk.value.text)
            }
            rows += written
            keys += chunk.value.keys
          }
        } finally {
          await chunks.return(undefined).catch(() => {})
        }
        await fresh.release()
        await finishFlush(client, flushId, keys, rows)
        await deps.hooks?.beforeCommit?.(flushId)
        return {keys, rows}
      })
    } catch (error) {
      if ((error as {code?: string}).code !== '40P01' || attempt >= 3) throw error
      deps.logger.warn('ingest.flush_deadlock_retry', {flushId, attempt})
    }
  }
}
