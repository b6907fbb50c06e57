import {type DlqDeps, replayGroupOf} from './catalog.js'
import {entryFor, withKafka, withRabbit} from './clients.js'
import {summarizeKafka} from './kafka-peek.js'
import {kafkaRanges, offsetsPending} from './kafka-read.js'
import {purgeKafka} from './kafka-write.js'
import {purgeRabbit, rabbitCount} from './rabbit.js'
import {type DlqPlan, DRY_RUN_SCAN_LIMIT, type PurgeResult} from './types.js'

export interface PurgeDlqOptions extends DlqDeps {
  dlq: string
  dryRun?: boolean
  confirm?: (plan: DlqPlan) => Promise<boolean>
}

/**
 * Deletes the pending dead letters of one DLQ. Kafka: the replay group's offsets move to the
 * snapshot end (the records stay on disk until retention, recoverable by resetting the group);
 * RabbitMQ: queue.purge, which removes every ready message at that moment.
 */
export const purgeDlq = async (opts: PurgeDlqOptions): Promise<PurgeResult> => {
  const entry = entryFor(opts, opts.dlq)
  const base = {dlq: entry.name, broker: entry.broker, dryRun: Boolean(opts.dryRun), declined: false}
  const plan = (count: number, approximate: boolean): DlqPlan => ({
    action: 'purge',
    dlq: entry.name,
    broker: entry.broker,
    source: entry.source,
    snapshot: count,
    approximate,
    count,
  })

  if (entry.broker === 'kafka') {
    return withKafka(opts, async (k) => {
      const ranges = await kafkaRanges(k.admin, entry, replayGroupOf(entry, k.ns))
      if (offsetsPending(ranges) === 0) return {...base, purged: 0, approximate: false}
      const s = (await summarizeKafka(k, [{entry, ranges}], DRY_RUN_SCAN_LIMIT)).get(entry.name)!
      if (opts.dryRun || s.messages === 0) return {...base, purged: s.messages, approximate: s.approximate}
      if (opts.confirm && !(await opts.confirm(plan(s.messages, s.approximate)))) return {...base, declined: true, purged: 0, approximate: s.approximate}
      const moved = await purgeKafka({...k, entry}, new Map(ranges.map((r) => [r.partition, r.end])))
      // Same starts as the counted snapshot: the exact count holds; else (a replay ran meanwhile) offsets tell.
      const unchanged =
        moved.every((m) => ranges.find((r) => r.partition === m.partition)?.start === m.start) && moved.length === ranges.filter((r) => r.end > r.start).length
      return {...base, purged: unchanged ? s.messages : offsetsPending(moved), approximate: unchanged ? s.approximate : true}
    })
  }
  return withRabbit(opts, async (conn) => {
    const count = await rabbitCount(conn, entry.name)
    if (opts.dryRun || count === 0) return {...base, purged: count, approximate: false}
    if (opts.confirm && !(await opts.confirm(plan(count, false)))) return {...base, declined: true, purged: 0, approximate: false}
    return {...base, purged: await purgeRabbit(conn, entry), approximate: false}
  })
}
