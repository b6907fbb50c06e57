import {type DlqDeps, type DlqEntry, replayGroupOf} from './catalog.js'
import {entryFor, withKafka, withRabbit} from './clients.js'
import {summarizeKafka} from './kafka-peek.js'
import {kafkaRanges, offsetsPending} from './kafka-read.js'
import {replayKafka} from './kafka-write.js'
import {type DlqMessage, originalMessageId} from './messages.js'
import {peekRabbit, rabbitCount, replayRabbit} from './rabbit.js'
import {type DlqPlan, DRY_RUN_SCAN_LIMIT, SCAN_LIMIT, type ReplayCounts, type ReplayOptions, type ReplayResult} from './types.js'

export interface ReplayDlqOptions extends DlqDeps, ReplayOptions {
  dlq: string
  dryRun?: boolean
  /** Asked once the snapshot is fixed, before anything changes; false leaves everything as it is. */
  confirm?: (plan: DlqPlan) => Promise<boolean>
}

const none: ReplayCounts = {replayed: 0, skipped: 0, destinations: {}, interrupted: false}

/**
 * Sends the dead letters of one DLQ back where they failed. The snapshot (Kafka: last stable
 * offsets; RabbitMQ: ready count) is fixed first, so messages dead-lettered meanwhile wait for
 * the next replay. --dry-run reads the snapshot and says how many would be replayed and skipped.
 */
export const replayDlq = async (opts: ReplayDlqOptions): Promise<ReplayResult> => {
  const entry = entryFor(opts, opts.dlq)
  const started = Date.now()
  const limit = opts.limit ?? Number.POSITIVE_INFINITY
  const result = (snapshot: number, counts: ReplayCounts, extra: Partial<ReplayResult> = {}): ReplayResult => ({
    dlq: entry.name,
    broker: entry.broker,
    source: entry.source,
    dryRun: Boolean(opts.dryRun),
    declined: false,
    snapshot,
    approximate: false,
    maxReplays: opts.maxReplays,
    ...counts,
    ...extra,
    durationMs: Date.now() - started,
  })
  const plan = (snapshot: number): DlqPlan => ({
    action: 'replay',
    dlq: entry.name,
    broker: entry.broker,
    source: entry.source,
    snapshot,
    approximate: false,
    count: Math.min(snapshot, limit),
  })

  if (entry.broker === 'kafka') {
    return withKafka(opts, async (k) => {
      const ranges = await kafkaRanges(k.admin, entry, replayGroupOf(entry, k.ns))
      const ends = new Map(ranges.map((r) => [r.partition, r.end]))
      if (opts.dryRun) {
        const s = (await summarizeKafka({...k, signal: opts.signal}, [{entry, ranges}], Math.min(limit, DRY_RUN_SCAN_LIMIT))).get(entry.name)!
        return dryRun(s.messages, s.approximate, s.scanned, entry, limit, opts, result)
      }
      let snapshot = offsetsPending(ranges)
      if (snapshot === 0) return result(0, none)
      if (opts.confirm) {
        // Before asking a person, count exactly when it is cheap (offsets also count transaction markers).
        const s = (await summarizeKafka({...k, signal: opts.signal}, [{entry, ranges}], SCAN_LIMIT)).get(entry.name)!
        snapshot = s.messages
        if (!(await opts.confirm({...plan(snapshot), approximate: s.approximate}))) return result(snapshot, none, {declined: true, approximate: s.approximate})
      }
      return result(snapshot, await replayKafka({...k, entry}, ends, opts))
    })
  }
  return withRabbit(opts, async (conn) => {
    const snapshot = await rabbitCount(conn, entry.name)
    if (opts.dryRun) {
      const scanned = snapshot > 0 ? await peekRabbit(conn, entry, Math.min(snapshot, limit, DRY_RUN_SCAN_LIMIT)) : []
      return dryRun(snapshot, false, scanned, entry, limit, opts, result)
    }
    if (snapshot === 0) return result(0, none)
    if (opts.confirm && !(await opts.confirm(plan(snapshot)))) return result(snapshot, none, {declined: true})
    return result(snapshot, await replayRabbit(conn, entry, snapshot, opts))
  })
}

/** Counts what a replay would do: the capped snapshot, minus what --max-replays would skip among the scanned. */
const dryRun = (
  snapshot: number,
  approximate: boolean,
  scanned: DlqMessage[],
  entry: DlqEntry,
  limit: number,
  opts: ReplayOptions,
  result: (snapshot: number, counts: ReplayCounts, extra?: Partial<ReplayResult>) => ReplayResult,
): ReplayResult => {
  const count = Math.min(snapshot, limit)
  const considered = scanned.slice(0, count)
  const destinations: Record<string, number> = {}
  let skipped = 0
  let duplicates = 0
  const originals = new Set<string>() // as replayKafka: each original message once
  for (const m of considered) {
    const id = entry.broker === 'kafka' ? originalMessageId(m.original) : undefined
    if (m.replayCount >= opts.maxReplays) skipped++
    else if (id !== undefined && originals.has(id)) duplicates++
    else {
      if (id !== undefined) originals.add(id)
      const to = entry.broker === 'kafka' ? (m.original.topic ?? entry.source) : entry.source
      destinations[to] = (destinations[to] ?? 0) + 1
    }
  }
  // Past the scan, messages are assumed to go back to the DLQ's own source.
  if (count > considered.length) destinations[entry.source] = (destinations[entry.source] ?? 0) + count - considered.length
  return result(
    snapshot,
    {replayed: count - skipped - duplicates, skipped, destinations, interrupted: false, ...(duplicates > 0 ? {duplicates} : {})},
    {approximate, scanned: considered.length},
  )
}
