import {createHash} from 'node:crypto'

import type {Redis} from 'ioredis'

import type {Namespace} from '../shared/naming.js'

/**
 * Redis names used by ingest, all through the namespace (see FLUSH.md for the whole layout).
 *
 * The live aggregates are ONE hash; each (tenant, product_sku, use_unity) owns two integer fields,
 * both always present:
 *   `w` + JSON.stringify([tenant, sku, unity])  whole units (signed 64-bit, HINCRBY)
 *   `f` + JSON.stringify([tenant, sku, unity])  fraction in 10^-12 units, always 0 ≤ f < 10^12
 * JSON.stringify of the tuple round-trips any string (`:`, quotes, unicode, emoji) and two
 * different tuples never share a field.
 */
export const ingestKeys = (ns: Namespace) => ({
  live: ns('ingest:agg'),
  /** Set of flush ids whose snapshot exists and is not cleaned up yet. */
  pendingSet: ns('ingest:flush:pending'),
  pendingHash: (flushId: string) => ns(`ingest:flush:${flushId}`),
  /** Hash: lastAt, lastFlushId, lastKeys, lastRows, lastDurationMs, nextAt, intervalMs. */
  lastFlush: ns('ingest:last-flush'),
  seen: (messageId: string) => ns(`ingest:seen:${messageId}`),
})

export type AggregateKey = [tenant: string, productSku: string, useUnity: string]

/** A hash field back to its part and tuple; undefined for a field ingest did not write. */
export const parseField = (field: string): {part: 'w' | 'f'; key: AggregateKey; id: string} | undefined => {
  const part = field[0]
  if (part !== 'w' && part !== 'f') return undefined
  try {
    const key = JSON.parse(field.slice(1)) as unknown
    if (!Array.isArray(key) || key.length !== 3 || !key.every((k) => typeof k === 'string')) return undefined
    return {part, key: key as AggregateKey, id: field.slice(1)}
  } catch {
    return undefined
  }
}

const shas = new Map<string, string>()

/** EVALSHA with a locally computed digest, falling back to EVAL once when the script is not cached. */
export const runScript = async (redis: Redis, script: string, keys: string[], args: (string | number)[]): Promise<unknown> => {
  let sha = shas.get(script)
  if (!sha) {
    sha = createHash('sha1').update(script).digest('hex')
    shas.set(script, sha)
  }
  try {
    return await redis.evalsha(sha, keys.length, ...keys, ...args)
  } catch (error) {
    if (!(error as Error).message.startsWith('NOSCRIPT')) throw error
    return redis.eval(script, keys.length, ...keys, ...args)
  }
}
