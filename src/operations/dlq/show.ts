import type {DlqDeps} from './catalog.js'
import {replayGroupOf} from './catalog.js'
import {entryFor, withKafka, withRabbit} from './clients.js'
import {summarizeKafka} from './kafka-peek.js'
import {kafkaRanges} from './kafka-read.js'
import {peekRabbit, rabbitCount} from './rabbit.js'
import type {DlqShowResult} from './types.js'

/**
 * The first `limit` pending messages of a DLQ, read without changing anything: Kafka through a
 * throwaway consumer group that never commits (deleted afterwards), oldest first across
 * partitions; RabbitMQ by get + requeue, in queue order.
 */
export const showDlq = async (deps: DlqDeps & {dlq: string; limit: number}): Promise<DlqShowResult> => {
  const entry = entryFor(deps, deps.dlq)
  const base = {dlq: entry.name, broker: entry.broker, source: entry.source}
  if (entry.broker === 'kafka') {
    return withKafka(deps, async (k) => {
      const ranges = await kafkaRanges(k.admin, entry, replayGroupOf(entry, k.ns))
      const partitions = Math.max(1, ranges.length)
      const s = (await summarizeKafka(k, [{entry, ranges}], deps.limit * partitions)).get(entry.name)!
      const items = s.scanned.slice(0, deps.limit)
      return {...base, messages: s.messages, approximate: s.approximate, shown: items.length, items}
    })
  }
  return withRabbit(deps, async (conn) => {
    const messages = await rabbitCount(conn, entry.name)
    const items = messages > 0 ? await peekRabbit(conn, entry, deps.limit) : []
    return {...base, messages, approximate: false, shown: items.length, items}
  })
}
