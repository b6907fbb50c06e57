import type {Redis} from 'ioredis'

import type {Namespace} from '../shared/naming.js'
import type {Logger} from '../shared/logger.js'
import {sleep} from '../shared/wait.js'
import {scanTotals} from './aggregate.js'
import {formatAmount} from './decimal.js'
import {ingestKeys} from './keys.js'

/**
 * Flushes every `intervalMs` until the signal aborts; the next run is scheduled only after the
 * previous one finished, so runs never overlap in this process. A failed flush is logged and
 * retried at the next tick (its snapshot stays pending, nothing is lost). Resolves once stopped.
 */
export const runFlushSchedule = async (opts: {
  flush: () => Promise<unknown>
  redis: Redis
  ns: Namespace
  intervalMs: number
  signal: AbortSignal
  logger: Logger
}): Promise<void> => {
  const k = ingestKeys(opts.ns)
  while (!opts.signal.aborted) {
    const nextAt = new Date(Date.now() + opts.intervalMs).toISOString()
    await opts.redis
      .hset(k.lastFlush, {nextAt, intervalMs: opts.intervalMs})
      .catch((error: Error) => opts.logger.warn('ingest.schedule_record_failed', {error: error.message}))
    await sleep(opts.intervalMs, opts.signal)
    if (opts.signal.aborted) break
    try {
      await opts.flush()
    } catch (error) {
      opts.logger.error('ingest.flush_failed', {error: (error as Error).message})
    }
  }
}

export interface IngestStatus {
  /** Aggregate keys in the live hash (not flushed yet). */
  pendingKeys: number
  /** Snapshots taken but not cleaned up (a flush in progress, or one that crashed). */
  pendingFlushes: number
  lastFlush: {at: string; flushId: string | null; keys: number; rows: number; durationMs: number} | null
  nextFlushAt: string | null
  /** The largest live aggregates, amounts as exact decimal strings. */
  top: {tenant: string; product_sku: string; use_unity: string; amount: string}[]
}

/**
 * For the dashboard and `GET /ingest/status`. `top` > 0 scans the live hash (O(keys)); with 0
 * everything is O(1).
 */
export const ingestStatus = async (redis: Redis, ns: Namespace, top = 0): Promise<IngestStatus> => {
  const k = ingestKeys(ns)
  const [fields, pendingFlushes, last] = await Promise.all([redis.hlen(k.live), redis.scard(k.pendingSet), redis.hgetall(k.lastFlush)])
  return {
    pendingKeys: Math.floor(fields / 2), // two fields per key, always both
    pendingFlushes,
    lastFlush: last.lastAt
      ? {
          at: last.lastAt,
          flushId: last.lastFlushId || null,
          keys: Number(last.lastKeys ?? 0),
          rows: Number(last.lastRows ?? 0),
          durationMs: Number(last.lastDurationMs ?? 0),
        }
      : null,
    nextFlushAt: last.nextAt ?? null,
    top: top > 0 ? await topAggregates(redis, k.live, top) : [],
  }
}

const topAggregates = async (redis: Redis, hash: string, n: number): Promise<IngestStatus['top']> =>
  (await scanTotals(redis, hash))
    .sort((a, b) => (a.units > b.units ? -1 : a.units < b.units ? 1 : 0))
    .slice(0, n)
    .map((t) => ({tenant: t.key[0], product_sku: t.key[1], use_unity: t.key[2], amount: formatAmount(t.units)}))
