import type {Admin} from 'kafkajs'

import {managementFetch} from '../../infra/probes.js'
import {dlqCatalog, replayGroupOf} from '../dlq/index.js'
import {kafkaRanges, offsetsPending} from '../dlq/kafka-read.js'
import {PROJECTED_TOPICS} from '../../../services/query/index.js'
import {DLQ_SUFFIX, type Namespace, rootNamespace, TOPOLOGY} from '../../infra/topology/spec.js'
import type {Endpoints} from '../../infra/types.js'
import {errorMessage} from '../../lib/errors.js'

export interface RabbitQueueStats {
  name: string
  ready: number
  unacked: number
  consumers: number
  inPerSec: number
  outPerSec: number
  dlq: boolean
}

export interface KafkaLag {
  group: string
  topic: string
  lag: number
  /** Partitions with no committed offset yet count from the earliest offset. */
  committed: number
  end: number
}

export interface KafkaDlq {
  topic: string
  messages: number
}

export interface QueuesSnapshot {
  rabbitmq: {queues: RabbitQueueStats[]; error?: string}
  kafka: {lag: KafkaLag[]; dlqs: KafkaDlq[]; error?: string}
}

/** Consumer groups and the topics each reads (PLATFORM.md §3). */
export const CONSUMER_GROUPS: Record<string, readonly string[]> = {
  product: ['order.created', 'order.canceled'],
  order: ['stock.reserved', 'stock.rejected'],
  query: PROJECTED_TOPICS,
}

const round = (n: number | undefined) => Math.round((n ?? 0) * 10) / 10

/** RabbitMQ queues from the management API: depth, unacked, consumers, rates. */
export const collectRabbitQueues = async (endpoints: Endpoints, ns: Namespace = rootNamespace): Promise<QueuesSnapshot['rabbitmq']> => {
  const wanted = new Set(TOPOLOGY.rabbitQueues.flatMap((q) => [ns(q.name), ns(q.name) + DLQ_SUFFIX]))
  try {
    const res = await managementFetch(
      endpoints.rabbitmqManagement,
      '/api/queues/%2F?columns=name,messages_ready,messages_unacknowledged,consumers,message_stats',
      {signal: AbortSignal.timeout(3000)},
    )
    if (!res.ok) return {queues: [], error: `management API answered ${res.status}`}
    const body = (await res.json()) as {
      name: string
      messages_ready?: number
      messages_unacknowledged?: number
      consumers?: number
      message_stats?: {publish_details?: {rate: number}; deliver_get_details?: {rate: number}; ack_details?: {rate: number}}
    }[]
    return {
      queues: body
        .filter((q) => wanted.has(q.name))
        .map((q) => ({
          name: q.name,
          ready: q.messages_ready ?? 0,
          unacked: q.messages_unacknowledged ?? 0,
          consumers: q.consumers ?? 0,
          inPerSec: round(q.message_stats?.publish_details?.rate),
          outPerSec: round(q.message_stats?.ack_details?.rate ?? q.message_stats?.deliver_get_details?.rate),
          dlq: q.name.endsWith(DLQ_SUFFIX),
        }))
        .sort((a, b) => a.name.localeCompare(b.name)),
    }
  } catch (error) {
    return {queues: [], error: errorMessage(error)}
  }
}

/**
 * A group's lag on one topic: its committed offsets (-1: none yet, so from the low mark) against
 * the topic's offsets, partition by partition (kafkajs lists them in no particular order). The end
 * offsets are read before the group's, and a commit in between can pass them: such a partition
 * counts as caught up, never as negative lag.
 */
export const topicLag = (
  committedOffsets: {partition: number; offset: string}[],
  topicOffsets: {partition: number; low: string; high: string}[],
): {lag: number; committed: number; end: number} => {
  const byPartition = new Map(topicOffsets.map((o) => [o.partition, {low: BigInt(o.low), high: BigInt(o.high)}]))
  let committed = 0n
  let end = 0n
  let behind = 0n
  for (const p of committedOffsets) {
    const o = byPartition.get(p.partition) ?? {low: 0n, high: 0n}
    const c = BigInt(p.offset) < 0n ? o.low : BigInt(p.offset)
    committed += c
    end += o.high
    if (o.high > c) behind += o.high - c
  }
  return {lag: Number(behind), committed: Number(committed), end: Number(end)}
}

/** Kafka consumer-group lag per topic, and message counts of the `.dlq` topics. */
export const collectKafka = async (getAdmin: () => Promise<Admin>, ns: Namespace = rootNamespace): Promise<QueuesSnapshot['kafka']> => {
  try {
    const admin = await getAdmin()
    const topics = TOPOLOGY.kafkaTopics.map((t) => ns(t.name))
    const offsets = new Map<string, {partition: number; low: string; high: string}[]>()
    await Promise.all(topics.map(async (topic) => offsets.set(topic, await admin.fetchTopicOffsets(topic))))
    const lag: KafkaLag[] = []
    for (const [group, groupTopics] of Object.entries(CONSUMER_GROUPS)) {
      const fetched = await admin.fetchOffsets({groupId: ns(group), topics: groupTopics.map((t) => ns(t))})
      for (const t of fetched) {
        const o = offsets.get(t.topic)
        if (!o) continue
        lag.push({group: ns(group), topic: t.topic, ...topicLag(t.partitions, o)})
      }
    }
    // Counted as `mm dlq list` counts them: from the DLQ's replay-group offset to the end.
    const existing = await admin.listTopics()
    const dlqs = await Promise.all(
      dlqCatalog(ns)
        .filter((d) => d.broker === 'kafka')
        .map(async (d) => ({topic: d.name, messages: offsetsPending(await kafkaRanges(admin, d, replayGroupOf(d, ns), existing))})),
    )
    return {lag, dlqs}
  } catch (error) {
    return {lag: [], dlqs: [], error: errorMessage(error)}
  }
}
