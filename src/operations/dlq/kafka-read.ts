import {randomUUID} from 'node:crypto'

import type {Admin, KafkaMessage} from 'kafkajs'

import {Kafka, logLevel} from '../../../services/shared/kafkajs.js'

import type {Namespace} from '../../infra/topology/spec.js'
import type {Endpoints} from '../../infra/types.js'
import {UserError} from '../../lib/errors.js'
import type {Logger} from '../../lib/logger.js'
import type {DlqEntry} from './catalog.js'

/** A Kafka client whose library logs go to mm's logger, failing in seconds when the broker is gone. */
export const dlqKafka = (endpoints: Endpoints, logger: Logger): Kafka =>
  new Kafka({
    clientId: 'mm-dlq',
    brokers: endpoints.kafka,
    connectionTimeout: 3000,
    retry: {retries: 6, initialRetryTime: 200},
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({level, log}) => {
        const {message, timestamp: _t, logger: _l, ...rest} = log
        if (/coordinator is not available|Limiting retries for the idempotent producer/i.test(message)) return
        if (level <= logLevel.ERROR) logger.debug('kafka.error', {message, ...rest})
        else logger.debug('kafka.log', {message, ...rest})
      },
  })

/** The part of one partition of a DLQ a command works on: offsets [start, end). */
export interface KafkaRange {
  topic: string
  partition: number
  start: bigint
  end: bigint
}

/**
 * Where each partition of a DLQ stands: `start` is the replay group's committed offset (or the
 * earliest offset when it never committed, or when retention removed what it pointed to), `end`
 * the last stable offset (ListOffsets reads committed), which is the snapshot a command keeps.
 */
export const kafkaRanges = async (admin: Admin, entry: DlqEntry, group: string, knownTopics?: readonly string[]): Promise<KafkaRange[]> => {
  // Asking for offsets of a missing topic retries for many seconds before failing: check first
  // (callers that check many DLQs at once list the topics once and pass them).
  if (!(knownTopics ?? (await admin.listTopics())).includes(entry.name))
    throw new UserError(`Kafka topic "${entry.name}" does not exist`, 'mm up applies the topology (every topic and its .dlq twin)')
  const [offsets, committed] = await Promise.all([admin.fetchTopicOffsets(entry.name), admin.fetchOffsets({groupId: group, topics: [entry.name]})])
  const done = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]))
  return offsets
    .map((o) => {
      const low = BigInt(o.low)
      const end = BigInt(o.high)
      const c = done.get(o.partition) ?? -1n
      const start = c >= 0n && c > low ? c : low
      return {topic: entry.name, partition: o.partition, start: start > end ? end : start, end}
    })
    .sort((a, b) => a.partition - b.partition)
}

export const offsetsPending = (ranges: KafkaRange[]): number => ranges.reduce((sum, r) => sum + Number(r.end - r.start), 0)

export interface RangeBatch {
  topic: string
  partition: number
  /** Messages of the batch inside the range, in offset order (control records already left out). */
  messages: KafkaMessage[]
  /** Where the partition stands once every message of `messages` is handled. */
  next: bigint
  heartbeat(): Promise<void>
}

/** How far a batch handler got (`position` = next offset to read), and whether to stop. */
export interface BatchVerdict {
  position: bigint
  partitionDone?: boolean
  stop?: boolean
}

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`

/**
 * Reads offset ranges of one or more topics once, in order per partition, with a throwaway
 * consumer group that never commits and is deleted afterwards (kafkajs has no manual assignment).
 * Resolves when every range is read, a handler says stop, or `signal` aborts between batches.
 */
export const readRanges = async (opts: {
  kafka: Kafka
  admin: Admin
  ns: Namespace
  logger: Logger
  ranges: KafkaRange[]
  signal?: AbortSignal
  stallMs?: number
  onBatch: (batch: RangeBatch) => Promise<BatchVerdict>
}): Promise<void> => {
  const state = new Map(opts.ranges.filter((r) => r.start < r.end).map((r) => [key(r.topic, r.partition), {range: r, position: r.start}]))
  if (state.size === 0 || opts.signal?.aborted) return
  const groupId = opts.ns(`mm.dlq-reader.${randomUUID()}`)
  const consumer = opts.kafka.consumer({groupId, maxWaitTimeInMs: 200, sessionTimeout: 30_000, heartbeatInterval: 3000, allowAutoTopicCreation: false})
  let settled = false
  let busy = false
  let lastProgress = Date.now()
  let resolve!: () => void
  let reject!: (e: Error) => void
  const finished = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)))
  const finish = (error?: Error) => {
    if (settled) return
    settled = true
    if (error) reject(error)
    else resolve()
  }
  const advance = (k: string, position: bigint, partitionDone = false) => {
    const s = state.get(k)
    if (!s) return
    if (position > s.position) s.position = position
    if (partitionDone || s.position >= s.range.end) state.delete(k)
    if (state.size === 0) finish()
  }
  const onAbort = () => {
    if (!busy) finish()
  }
  opts.signal?.addEventListener('abort', onAbort, {once: true})
  const stall = setInterval(() => {
    if (!busy && Date.now() - lastProgress > (opts.stallMs ?? 30_000))
      finish(
        new Error(`reading ${[...new Set(opts.ranges.map((r) => r.topic))].join(', ')} made no progress for ${Math.round((opts.stallMs ?? 30_000) / 1000)}s`),
      )
  }, 250)
  try {
    await consumer.connect()
    await consumer.subscribe({topics: [...new Set([...state.values()].map((s) => s.range.topic))], fromBeginning: true})
    // A batch made only of transaction markers never reaches eachBatch, but moves the position.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({payload}) => {
      lastProgress = Date.now()
      if (payload.batchSize === 0) advance(key(payload.topic, payload.partition), BigInt(payload.lastOffset) + 1n)
    })
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({batch, heartbeat}) => {
        const k = key(batch.topic, batch.partition)
        const s = state.get(k)
        if (settled || !s) return
        busy = true
        try {
          const messages = batch.messages.filter((m) => BigInt(m.offset) >= s.position && BigInt(m.offset) < s.range.end)
          const last = BigInt(batch.lastOffset()) + 1n
          const next = last > s.range.end ? s.range.end : last
          const verdict = await opts.onBatch({
            topic: batch.topic,
            partition: batch.partition,
            messages,
            next,
            heartbeat: async () => ((lastProgress = Date.now()), await heartbeat()),
          })
          advance(k, verdict.position, verdict.partitionDone)
          if (verdict.stop || opts.signal?.aborted) finish()
        } catch (error) {
          finish(error instanceof Error ? error : new Error(String(error)))
        } finally {
          busy = false
          lastProgress = Date.now()
        }
      },
    })
    for (const s of state.values()) consumer.seek({topic: s.range.topic, partition: s.range.partition, offset: s.position.toString()})
    await finished
  } finally {
    clearInterval(stall)
    opts.signal?.removeEventListener('abort', onAbort)
    await consumer.disconnect().catch(() => {})
    await opts.admin.deleteGroups([groupId]).catch((error: Error) => opts.logger.debug('dlq.reader_group_not_deleted', {groupId, error: error.message}))
  }
}
