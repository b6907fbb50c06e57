import type {Admin} from 'kafkajs'
import type pg from 'pg'

import {PROJECTED_TOPICS} from '../../../services/query/projector.js'
import type {Namespace} from '../../infra/topology/spec.js'
import {sleep} from '../../lib/proc.js'
import {OUTBOX_SCHEMAS} from '../outbox.js'
import {QUERY_GROUP} from '../../../services/query/topology.js'

export interface CatchUpResult {
  caughtUp: boolean
  waitedMs: number
  /** When not caught up: outbox rows still to publish and events the query group still had to apply. */
  unpublished: number
  pendingEvents: number
}

export interface CatchUpOptions {
  pool: Pick<pg.Pool, 'query'>
  admin: () => Promise<Admin>
  ns: Namespace
  timeoutMs: number
  signal?: AbortSignal
  intervalMs?: number
  onProgress?: (p: {unpublished: number; pendingEvents: number; elapsedMs: number}) => void
}

/**
 * Waits until the read model has applied every change the write models held when it was called,
 * even while new ones keep coming (a wait for "nothing in flight" never ends under load):
 * 1. the outbox rows present then (ids up to each outbox's current maximum) are published;
 * 2. then the query group has committed, on every partition of the topics it reads, at least the
 *    end offsets of that moment; it commits only after applying, so the views hold those events.
 */
export const waitForCatchUp = async (opts: CatchUpOptions): Promise<CatchUpResult> => {
  const began = Date.now()
  const deadline = began + opts.timeoutMs
  const interval = opts.intervalMs ?? 100
  const schemas = OUTBOX_SCHEMAS.map((s) => `"${s}".outbox`)
  let unpublished = 0
  let pendingEvents = 0
  const result = (caughtUp: boolean): CatchUpResult => ({
    caughtUp,
    waitedMs: Date.now() - began,
    unpublished: caughtUp ? 0 : unpublished,
    pendingEvents: caughtUp ? 0 : pendingEvents,
  })
  const tick = async () => {
    opts.onProgress?.({unpublished, pendingEvents, elapsedMs: Date.now() - began})
    await sleep(interval, opts.signal)
  }
  const over = () => opts.signal?.aborted === true || Date.now() > deadline

  // 1. The outbox rows written so far.
  const maxima = await opts.pool.query<{max: string | null}>(schemas.map((t) => `SELECT max(id)::text AS max FROM ${t}`).join(' UNION ALL '))
  const bounds = maxima.rows.map((r) => r.max ?? '0')
  for (;;) {
    const {rows} = await opts.pool.query<{n: number}>(
      `SELECT (${schemas.map((t, i) => `(SELECT count(*) FROM ${t} WHERE published_at IS NULL AND id <= $${i + 1}::bigint)`).join(' + ')})::int AS n`,
      bounds,
    )
    unpublished = rows[0]?.n ?? 0
    if (unpublished === 0) break
    if (over()) return result(false)
    await tick()
  }

  // 2. The query group past the end of every partition as it is now.
  const admin = await opts.admin()
  const topics = PROJECTED_TOPICS.map((t) => opts.ns(t))
  const ends = new Map<string, {low: bigint; high: bigint}>()
  await Promise.all(
    topics.map(async (topic) => {
      for (const p of await admin.fetchTopicOffsets(topic)) ends.set(`${topic}:${p.partition}`, {low: BigInt(p.low), high: BigInt(p.high)})
    }),
  )
  for (;;) {
    const committed = await admin.fetchOffsets({groupId: opts.ns(QUERY_GROUP), topics})
    pendingEvents = 0
    for (const t of committed) {
      for (const p of t.partitions) {
        const end = ends.get(`${t.topic}:${p.partition}`)
        if (!end) continue
        const at = BigInt(p.offset) < 0n ? end.low : BigInt(p.offset)
        if (at < end.high) pendingEvents += Number(end.high - at)
      }
    }
    if (pendingEvents === 0) return result(true)
    if (over()) return result(false)
    await tick()
  }
}
