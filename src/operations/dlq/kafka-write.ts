import type {Admin, Kafka, KafkaMessage, Message, Producer, RecordMetadata, Transaction} from 'kafkajs'

import type {Namespace} from '../../infra/topology/spec.js'
import {errorMessage, MmError, UserError} from '../../lib/errors.js'
import type {Logger} from '../../lib/logger.js'
import {type DlqEntry, replayGroupOf, transactionalIdOf} from './catalog.js'
import {kafkaRanges, type KafkaRange, readRanges} from './kafka-read.js'
import {waitVisible} from './kafka-visible.js'
import {headerText, kafkaOriginal, originalMessageId, replayCountOf, REPLAY_COUNT_HEADER, withReplayCount} from './messages.js'
import {batchSizeFor, createRateLimiter} from './rate.js'
import type {ReplayCounts, ReplayOptions} from './types.js'

export interface KafkaCtx {
  kafka: Kafka
  admin: Admin
  ns: Namespace
  logger: Logger
  entry: DlqEntry
}

const fenced = (error: unknown): boolean => /fenc|epoch|transactional id/i.test(`${(error as {type?: string}).type ?? ''} ${errorMessage(error)}`)

const wrap = (entry: DlqEntry, error: unknown): Error =>
  error instanceof MmError
    ? error
    : fenced(error)
      ? new UserError(`another mm dlq replay or purge of ${entry.name} took over, so this one stopped`, 'let it finish, then check mm dlq list')
      : (error as Error)

/**
 * Opens the DLQ's transactional producer. Its InitProducerId fences any older replay or purge of
 * the same DLQ and completes (aborts) a transaction a crashed one left open, so the committed
 * offsets read right after are stable.
 */
const openTransactional = async (ctx: KafkaCtx): Promise<{producer: Producer; first: Transaction}> => {
  const producer = ctx.kafka.producer({
    transactionalId: transactionalIdOf(ctx.entry, ctx.ns),
    idempotent: true,
    maxInFlightRequests: 1,
    transactionTimeout: 60_000,
    retry: {retries: 6},
  })
  await producer.connect()
  try {
    return {producer, first: await producer.transaction()}
  } catch (error) {
    await producer.disconnect().catch(() => {})
    throw wrap(ctx.entry, error)
  }
}

/** The snapshot of the plan, applied to where the replay group stands now. */
const bounded = (ranges: KafkaRange[], ends: Map<number, bigint>): KafkaRange[] =>
  ranges.map((r) => {
    const end = ends.get(r.partition) ?? r.end
    return {...r, end: end < r.start ? r.start : end}
  })

/**
 * Replays each pending message (up to the snapshot `ends`) to its x-original-topic (and original
 * partition when it still exists) with key, value and headers as they are plus x-replay-count.
 * The replayed messages and the replay group's new offset go in one transaction per batch, so a
 * crash or Ctrl-C replays-and-commits both or neither. Messages at --max-replays are appended
 * again to the end of their DLQ partition in the same transaction (they stay visible to list/show;
 * the snapshot keeps this run from seeing them again). A batch counts (onProgress, the result)
 * only once Kafka shows its commit (waitVisible): when this returns, list/show and the next replay
 * start after it, and read_committed consumers see its messages.
 */
export const replayKafka = async (ctx: KafkaCtx, ends: Map<number, bigint>, opts: ReplayOptions): Promise<ReplayCounts> => {
  const counts: ReplayCounts = {replayed: 0, skipped: 0, destinations: {}, interrupted: false}
  const {producer, first} = await openTransactional(ctx)
  let open: Transaction | undefined = first
  const group = replayGroupOf(ctx.entry, ctx.ns)
  const limiter = createRateLimiter(opts.rate)
  const batchSize = batchSizeFor(limiter)
  const limit = opts.limit ?? Number.POSITIVE_INFINITY
  const partitionsOf = new Map<string, number>()
  const destinationPartitions = async (topic: string): Promise<number> => {
    if (!partitionsOf.has(topic)) {
      // Metadata of a missing topic retries for many seconds: check that it exists first.
      const exists = (await ctx.admin.listTopics()).includes(topic)
      const meta = exists ? await ctx.admin.fetchTopicMetadata({topics: [topic]}) : undefined
      const n = meta?.topics[0]?.partitions.length
      if (!n)
        throw new UserError(
          `x-original-topic "${topic}" of a message in ${ctx.entry.name} does not exist`,
          'create the topic (mm up applies the topology), or purge that message',
        )
      partitionsOf.set(topic, n)
    }
    return partitionsOf.get(topic)!
  }
  let processed = 0
  // Every consumer group that failed on a message dead-lettered its own copy, and one copy back
  // in the topic reaches every group again: each original message is replayed once per run, its
  // other copies committed past (counted as duplicates), so the DLQ does not double per replay.
  const replayedOriginals = new Set<string>()
  try {
    const ranges = bounded(await kafkaRanges(ctx.admin, ctx.entry, group), ends)
    const committed = new Map(ranges.map((r) => [r.partition, r.start]))
    await readRanges({
      ...ctx,
      ranges,
      signal: opts.signal,
      onBatch: async (b) => {
        let chunk: {topic: string; message: Message}[] = []
        let pending = {replayed: 0, skipped: 0, duplicates: 0, destinations: {} as Record<string, number>}
        let chunkStarted = Date.now()
        const flush = async (position: bigint) => {
          if (chunk.length === 0 && position <= committed.get(b.partition)!) return
          const txn = open ?? (await producer.transaction())
          open = undefined
          let written: RecordMetadata[] = []
          try {
            if (chunk.length > 0) written = await txn.sendBatch({acks: -1, topicMessages: byTopic(chunk)})
            await txn.sendOffsets({
              consumerGroupId: group,
              topics: [{topic: ctx.entry.name, partitions: [{partition: b.partition, offset: position.toString()}]}],
            })
            await txn.commit()
          } catch (error) {
            await txn.abort().catch(() => {})
            throw wrap(ctx.entry, error)
          }
          committed.set(b.partition, position)
          counts.replayed += pending.replayed
          counts.skipped += pending.skipped
          if (pending.duplicates > 0) counts.duplicates = (counts.duplicates ?? 0) + pending.duplicates
          for (const [d, n] of Object.entries(pending.destinations)) counts.destinations[d] = (counts.destinations[d] ?? 0) + n
          // Reported (and returned) only once Kafka shows it: the commit markers come after commit().
          await waitVisible(ctx.admin, {group, dlq: ctx.entry.name, offsets: new Map([[b.partition, position]]), written}, {onPoll: b.heartbeat})
          chunk = []
          pending = {replayed: 0, skipped: 0, duplicates: 0, destinations: {}}
          chunkStarted = Date.now()
          opts.onProgress?.({replayed: counts.replayed, skipped: counts.skipped})
          await b.heartbeat()
        }
        let stop = false
        let reached = committed.get(b.partition)!
        for (const m of b.messages) {
          if (opts.signal?.aborted || processed >= limit) {
            stop = true
            break
          }
          await limiter.wait(opts.signal)
          if (opts.signal?.aborted) {
            stop = true
            break
          }
          const count = replayCountOf(m.headers?.[REPLAY_COUNT_HEADER])
          if (count >= opts.maxReplays) {
            chunk.push({topic: ctx.entry.name, message: same(m, b.partition)})
            pending.skipped++
          } else {
            const original = kafkaOriginal(
              {
                'x-original-topic': headerText(m.headers?.['x-original-topic']),
                'x-original-partition': headerText(m.headers?.['x-original-partition']),
                'x-original-offset': headerText(m.headers?.['x-original-offset']),
              },
              ctx.entry.source,
            )
            const id = originalMessageId(original)
            if (id !== undefined && replayedOriginals.has(id)) pending.duplicates++
            else {
              if (id !== undefined) replayedOriginals.add(id)
              const partitions = await destinationPartitions(original.topic)
              const partition = original.partition !== undefined && original.partition >= 0 && original.partition < partitions ? original.partition : undefined
              chunk.push({
                topic: original.topic,
                message: {...same(m, partition), headers: withReplayCount(m.headers, String(count + 1)) as Message['headers']},
              })
              pending.replayed++
              pending.destinations[original.topic] = (pending.destinations[original.topic] ?? 0) + 1
            }
          }
          processed++
          reached = BigInt(m.offset) + 1n
          if (chunk.length >= batchSize || Date.now() - chunkStarted >= 1000) await flush(reached)
        }
        const position = stop ? reached : b.next
        await flush(position)
        return {position, stop: stop || processed >= limit}
      },
    })
    counts.interrupted = Boolean(opts.signal?.aborted)
    return counts
  } finally {
    if (open) await open.abort().catch(() => {})
    await producer.disconnect().catch(() => {})
  }
}

/** Key, value and headers exactly as they are (Buffers in, Buffers out). */
const same = (m: KafkaMessage, partition: number | undefined): Message => ({
  key: m.key,
  value: m.value,
  headers: m.headers as Message['headers'],
  ...(partition === undefined ? {} : {partition}),
})

const byTopic = (chunk: {topic: string; message: Message}[]) => {
  const map = new Map<string, Message[]>()
  for (const {topic, message} of chunk) map.set(topic, [...(map.get(topic) ?? []), message])
  return [...map.entries()].map(([topic, messages]) => ({topic, messages}))
}

/**
 * Purge = move the replay group's committed offsets to the snapshot end in one transaction (so
 * it also fences a running replay). The records stay on disk until retention removes them, so an
 * operator can still rewind the group with kafka-consumer-groups.sh --reset-offsets if needed.
 * Returns, once Kafka shows the new offsets, the partitions whose offsets moved (start = where they were).
 */
export const purgeKafka = async (ctx: KafkaCtx, ends: Map<number, bigint>): Promise<KafkaRange[]> => {
  const {producer, first} = await openTransactional(ctx)
  const group = replayGroupOf(ctx.entry, ctx.ns)
  try {
    const ranges = bounded(await kafkaRanges(ctx.admin, ctx.entry, group), ends).filter((r) => r.end > r.start)
    try {
      if (ranges.length > 0) {
        await first.sendOffsets({
          consumerGroupId: group,
          topics: [{topic: ctx.entry.name, partitions: ranges.map((r) => ({partition: r.partition, offset: r.end.toString()}))}],
        })
      }
      await first.commit()
    } catch (error) {
      await first.abort().catch(() => {})
      throw wrap(ctx.entry, error)
    }
    await waitVisible(ctx.admin, {group, dlq: ctx.entry.name, offsets: new Map(ranges.map((r) => [r.partition, r.end])), written: []})
    return ranges
  } finally {
    await producer.disconnect().catch(() => {})
  }
}
