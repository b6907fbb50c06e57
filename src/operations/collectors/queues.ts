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
 * A group's lag on one topic from its committed offsets (-1: none yet, so from the low mark) and
 * the topic's offsets. The end offsets are read before the group's, and a commit in between can
 * pass them: such a partition counts as caught up, never as negative lag.
 */
export const topicLag = (
  partitions: {partition: number; offset: string}[],
  offsets: {low: bigint[]; high: bigint[]},
): {lag: number; committed: number; end: number} => {
  let committed = 0n
  let end = 0n
  let behind = 0n
  partitions.forEach((p, i) => {
    const c = BigInt(p.offset) < 0n ? (offsets.low[p.partition] ?? offsets.low[i] ?? 0n) : BigInt(p.offset)
    const e = offsets.high[p.partition] ?? offsets.high[i] ?? 0n
    committed += c
    end += e
    if (e > c) behind += e - c
  })
  return {lag: Number(behind), committed: Number(committed), end: Number(end)}
}

/** Kafka consumer-group lag per topic, and message counts of the `.dlq` topics. */
export const collectKafka = async (getAdmin: () => Promise<Admin>, ns: Namespace = rootNamespace): Promise<QueuesSnapshot['kafka']> => {
  try {
    const admin = await getAdmin()
    const topics = TOPOLOGY.kafkaTopics.map((t) => ns(t.name))
    const offsets = new Map<string, {low: bigint[]; high: bigint[]}>()
    await Promise.all(
      topics.map(async (topic) => {
        const parts = await admin.fetchTopicOffsets(topic)
        offsets.set(topic, {low: parts.map((p) => BigInt(p.low)), high: parts.map((p) => BigInt(p.high))})
      }),
    )
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
