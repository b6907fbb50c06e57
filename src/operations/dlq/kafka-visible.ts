import type {Admin, RecordMetadata} from 'kafkajs'

import {UserError} from '../../lib/errors.js'
import {sleep} from '../../lib/proc.js'

/** How long a committed replay or purge waits for Kafka to show it before failing. */
export const VISIBLE_TIMEOUT_MS = 30_000

/** What one committed transaction of a replay or purge must make visible. */
export interface CommittedTxn {
  /** The replay group and the DLQ topic its offsets are for. */
  group: string
  dlq: string
  /** The group's new offset per DLQ partition. */
  offsets: ReadonlyMap<number, bigint>
  /** What the transaction's sendBatch answered: the base offset of its records per topic and partition. */
  written: readonly RecordMetadata[]
}

/**
 * Waits until Kafka shows a committed transaction to everyone: the replay group's offsets read back
 * as committed (what list, show and the next replay start from), and every partition written has
 * its last stable offset past the records (what read_committed consumers read up to).
 *
 * Needed because Kafka answers EndTxn (kafkajs `commit()`) once the coordinator has logged
 * PrepareCommit, and writes the commit markers to the partitions and to __consumer_offsets only
 * afterwards. Until then OffsetFetch returns the old offset (kafkajs speaks OffsetFetch v1-v4,
 * without KIP-447's require_stable that would report the pending commit) and ListOffsets with
 * read_committed stops at the transaction's first record. Usually a few milliseconds, more on a
 * busy broker, or while another producer's open transaction holds the partition's LSO back.
 * Past `timeoutMs` it fails saying the transaction did commit.
 */
export const waitVisible = async (admin: Admin, txn: CommittedTxn, opts: {timeoutMs?: number; onPoll?: () => Promise<void>} = {}): Promise<void> => {
  const timeoutMs = opts.timeoutMs ?? VISIBLE_TIMEOUT_MS
  const deadline = Date.now() + timeoutMs
  const offsets = new Map(txn.offsets)
  const records = new Map<string, Map<number, bigint>>()
  for (const m of txn.written) {
    if (m.baseOffset === undefined || BigInt(m.baseOffset) < 0n) continue
    const parts = records.get(m.topicName) ?? new Map<number, bigint>()
    const base = BigInt(m.baseOffset)
    if (base >= (parts.get(m.partition) ?? -1n)) parts.set(m.partition, base)
    records.set(m.topicName, parts)
  }
  for (let delay = 5; ; delay = Math.min(delay * 2, 200)) {
    const [fetched, ends] = await Promise.all([
      offsets.size > 0 ? admin.fetchOffsets({groupId: txn.group, topics: [txn.dlq]}) : [],
      Promise.all([...records.keys()].map(async (topic) => ({topic, ends: await admin.fetchTopicOffsets(topic)}))),
    ])
    for (const p of fetched[0]?.partitions ?? []) {
      const want = offsets.get(p.partition)
      if (want !== undefined && BigInt(p.offset) >= want) offsets.delete(p.partition)
    }
    for (const {topic, ends: partitions} of ends) {
      const parts = records.get(topic)!
      for (const o of partitions) {
        const base = parts.get(o.partition)
        if (base !== undefined && BigInt(o.high) > base) parts.delete(o.partition)
      }
      if (parts.size === 0) records.delete(topic)
    }
    if (offsets.size === 0 && records.size === 0) return
    if (Date.now() >= deadline) {
      const missing = [
        ...[...offsets].map(([p, o]) => `the offset ${o} of ${txn.group} on ${txn.dlq}[${p}]`),
        ...[...records].flatMap(([topic, parts]) => [...parts.keys()].map((p) => `the records on ${topic}[${p}]`)),
      ]
      throw new UserError(
        `Kafka committed the transaction but did not show ${missing.join(', ')} within ${Math.round(timeoutMs / 1000)}s`,
        'the broker is overloaded, or another producer keeps a transaction open on that topic; check mm status, and mm dlq list before replaying again',
      )
    }
    await opts.onPoll?.()
    await sleep(delay)
  }
}
