import type {Admin, Kafka, KafkaMessage} from 'kafkajs'

import type {Namespace} from '../../infra/topology/spec.js'
import type {Logger} from '../../lib/logger.js'
import type {DlqEntry} from './catalog.js'
import {type KafkaRange, offsetsPending, readRanges} from './kafka-read.js'
import {describe, type DlqMessage} from './messages.js'

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`

export const describeKafka = (entry: DlqEntry, partition: number, m: KafkaMessage): DlqMessage =>
  describe({
    broker: 'kafka',
    id: `${partition}/${m.offset}`,
    source: entry.source,
    key: m.key ? m.key.toString('utf8') : null,
    body: m.value,
    rawHeaders: m.headers as Record<string, unknown> | undefined,
    partition,
    offset: m.offset,
    timestamp: Number(m.timestamp) > 0 ? new Date(Number(m.timestamp)).toISOString() : undefined,
  })

/**
 * Reads up to `perPartition` pending messages of each partition without committing anything.
 * `complete` says whether every pending message was read (then counts are exact).
 */
export const peekKafka = async (opts: {
  kafka: Kafka
  admin: Admin
  ns: Namespace
  logger: Logger
  ranges: KafkaRange[]
  perPartition: number
  signal?: AbortSignal
}): Promise<{byTopic: Map<string, {partition: number; message: KafkaMessage}[]>; complete: Set<string>}> => {
  const byTopic = new Map<string, {partition: number; message: KafkaMessage}[]>()
  const taken = new Map<string, number>()
  const reached = new Set<string>()
  await readRanges({
    ...opts,
    onBatch: async (b) => {
      const k = key(b.topic, b.partition)
      const room = opts.perPartition - (taken.get(k) ?? 0)
      const take = b.messages.slice(0, Math.max(0, room))
      const list = byTopic.get(b.topic) ?? []
      list.push(...take.map((message) => ({partition: b.partition, message})))
      byTopic.set(b.topic, list)
      taken.set(k, (taken.get(k) ?? 0) + take.length)
      const full = take.length < b.messages.length || (taken.get(k) ?? 0) >= opts.perPartition
      return full ? {position: BigInt(take.at(-1)?.offset ?? '-1') + 1n, partitionDone: true} : {position: b.next}
    },
  })
  // A partition is complete when the reader got to its end, not when it stopped at the cap.
  for (const r of opts.ranges) {
    const k = key(r.topic, r.partition)
    const n = taken.get(k) ?? 0
    if (r.start >= r.end || (n < opts.perPartition && !opts.signal?.aborted)) reached.add(k)
  }
  const complete = new Set(
    opts.ranges.map((r) => r.topic).filter((t) => opts.ranges.filter((r) => r.topic === t).every((r) => reached.has(key(r.topic, r.partition)))),
  )
  return {byTopic, complete}
}

export interface KafkaSummary {
  messages: number
  approximate: boolean
  /** Pending messages read (oldest first), at most the scan limit. */
  scanned: DlqMessage[]
}

/**
 * Counts and samples the pending messages of one or more Kafka DLQs with one reader. The count
 * is exact when the scan read every pending message; past the scan limit it is the offset
 * distance, which also counts the transaction markers that replays which parked messages left.
 */
export const summarizeKafka = async (
  ctx: {kafka: Kafka; admin: Admin; ns: Namespace; logger: Logger; signal?: AbortSignal},
  items: {entry: DlqEntry; ranges: KafkaRange[]}[],
  scanLimit: number,
): Promise<Map<string, KafkaSummary>> => {
  const maxPartitions = Math.max(1, ...items.map((i) => i.ranges.length))
  const perPartition = Math.max(1, Math.ceil(scanLimit / maxPartitions))
  const {byTopic, complete} = await peekKafka({...ctx, ranges: items.flatMap((i) => i.ranges), perPartition})
  return new Map(
    items.map(({entry, ranges}) => {
      const scanned = oldestFirst((byTopic.get(entry.name) ?? []).map(({partition, message}) => describeKafka(entry, partition, message)))
      const exact = complete.has(entry.name)
      return [entry.name, {messages: exact ? scanned.length : offsetsPending(ranges), approximate: !exact, scanned: scanned.slice(0, scanLimit)}]
    }),
  )
}

/** Across partitions Kafka has no order; show the oldest dead letters first (then partition, offset). */
export const oldestFirst = (messages: DlqMessage[]): DlqMessage[] =>
  [...messages].sort(
    (a, b) =>
      (a.timestamp ?? '').localeCompare(b.timestamp ?? '') ||
      (a.partition ?? 0) - (b.partition ?? 0) ||
      Number(BigInt(a.offset ?? '0') - BigInt(b.offset ?? '0')),
  )
