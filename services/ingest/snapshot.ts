import type {Redis} from 'ioredis'

import {formatAmount, joinUnits, SCALE} from './decimal.js'

/** Rows of a snapshot as PostgreSQL COPY text: `tenant\tproduct_sku\tuse_unity\tamount\n` each. */
export interface SnapshotChunk {
  text: string
  keys: number
  /** The key of the chunk's first row. */
  first: [string, string, string]
}

export interface ChunkOptions {
  /** HSCAN COUNT: fields asked for per page. */
  pageFields?: number
  /** Keys per yielded chunk (the flush upserts one chunk per statement); the first is a quarter of it, so writing starts early. */
  chunkKeys?: number
}

const COPY_SPECIAL = /[\\\t\n\r]/
const COPY_ESCAPES: Record<string, string> = {'\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r'}
const escapeCopy = (s: string): string => (COPY_SPECIAL.test(s) ? s.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c]!) : s)

const DIGITS = /^[0-9]+$/

/** Whole units and fraction (the two Redis integers) as exact decimal text, without BigInt when they are plain. */
export const amountText = (whole: string, frac: string): string =>
  DIGITS.test(whole) && DIGITS.test(frac) && frac.length <= SCALE
    ? `${whole}.${frac.padStart(SCALE, '0')}`
    : formatAmount(joinUnits(BigInt(whole), BigInt(frac)))

/**
 * The COPY columns `tenant\tproduct_sku\tuse_unity` of a field id (the JSON after `w`/`f`);
 * undefined for a field ingest did not write. Without a backslash the JSON has no escapes, so its
 * three strings hold no quote, backslash or control character: splitting on `","` is exact and
 * nothing needs escaping for COPY. Otherwise JSON.parse decodes it and each string is escaped.
 */
const copyColumns = (id: string): string | undefined => {
  if (!id.includes('\\') && id.startsWith('["') && id.endsWith('"]')) {
    const parts = id.slice(2, -2).split('","')
    return parts.length === 3 ? parts.join('\t') : undefined
  }
  try {
    const key = JSON.parse(id) as unknown
    if (Array.isArray(key) && key.length === 3 && key.every((k) => typeof k === 'string')) return (key as string[]).map(escapeCopy).join('\t')
  } catch {
    // not ours: skipped
  }
  return undefined
}

/**
 * Reads a snapshot hash (it no longer changes) page by page with HSCAN and yields it as COPY text
 * in chunks of about `chunkKeys` keys. The next page is requested before the current one is
 * parsed, and the generator runs ahead of its consumer by one chunk, so Redis, this process and
 * PostgreSQL work at the same time. A key's `w` and `f` fields may come in different pages: a key is
 * emitted once both were seen (a missing one counts as 0 at the end). HSCAN may return a field
 * twice: a key is emitted at most once.
 */
export async function* snapshotChunks(redis: Redis, hash: string, {pageFields = 2000, chunkKeys = 2500}: ChunkOptions = {}): AsyncGenerator<SnapshotChunk> {
  const pending = {w: new Map<string, string>(), f: new Map<string, string>()} // one part seen, waiting for the other
  const done = new Set<string>() // keys emitted
  let text = ''
  let keys = 0
  let first: [string, string, string] = ['', '', '']
  let target = Math.ceil(chunkKeys / 4)
  const emit = (id: string, whole: string, frac: string) => {
    if (done.has(id)) return // HSCAN may return a field twice: a key is emitted once
    done.add(id)
    const columns = copyColumns(id)
    if (columns === undefined) return
    if (keys === 0) first = JSON.parse(id) as [string, string, string]
    text += `${columns}\t${amountText(whole, frac)}\n`
    keys++
  }
  const page = (cursor: string) => {
    const reply = redis.hscan(hash, cursor, 'COUNT', pageFields)
    reply.catch(() => {}) // awaited below; this only keeps an abandoned read from being "unhandled"
    return reply
  }
  let reply = page('0')
  for (;;) {
    const [cursor, flat] = await reply
    if (cursor !== '0') reply = page(cursor) // Redis works on the next page while this one is parsed
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const field = flat[i]!
      const part = field[0]
      if (part !== 'w' && part !== 'f') continue
      const id = field.slice(1)
      const other = part === 'w' ? pending.f : pending.w
      const value = other.get(id)
      if (value === undefined) {
        pending[part].set(id, flat[i + 1]!) // a repeat of the same field sets the same value
        continue
      }
      other.delete(id)
      if (part === 'w') emit(id, flat[i + 1]!, value)
      else emit(id, value, flat[i + 1]!)
    }
    if (cursor === '0') break
    if (keys >= target) {
      yield {text, keys, first}
      text = ''
      keys = 0
      target = chunkKeys
    }
  }
  for (const [id, whole] of pending.w) emit(id, whole, pending.f.get(id) ?? '0')
  for (const [id, frac] of pending.f) emit(id, '0', frac)
  if (keys > 0) yield {text, keys, first}
}
