import {Kafka, logLevel, type Producer} from 'kafkajs'
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest'

import {PoisonMessageError} from '../../services/shared/errors.js'
import {type ConsumedMessage, createKafka, startKafkaConsumer} from '../../services/shared/kafka.js'
import type {Endpoints} from '../../src/infra/types.js'
import {applyKafka} from '../../src/infra/topology/apply.js'
import {prefixNamespace} from '../../src/infra/topology/spec.js'
import {createLogger} from '../../src/lib/logger.js'
import {eventually} from './harness.js'
import {uniqueName} from './isolation.js'

/**
 * The shared Kafka consumer in batch mode: handleBatch sees consecutive messages of a partition
 * (all or nothing, like one transaction); when a batch fails it goes one message at a time, so
 * only the failing message is retried and dead-lettered, and nothing is applied twice.
 */
const endpoints: Endpoints = inject('endpoints')
const logger = createLogger(() => {}, 'error')
const kafka = new Kafka({clientId: 'it-kafka-batch', brokers: endpoints.kafka, logLevel: logLevel.NOTHING})
let producer: Producer

beforeAll(async () => {
  producer = kafka.producer({idempotent: true})
  await producer.connect()
})
afterAll(async () => {
  await producer?.disconnect()
})

const readAll = async (topic: string, want: number) => {
  const consumer = kafka.consumer({groupId: `${topic}-reader`})
  const got: {key: string; headers: Record<string, string>}[] = []
  await consumer.connect()
  await consumer.subscribe({topic, fromBeginning: true})
  await consumer.run({
    eachMessage: async ({message}) =>
      void got.push({key: message.key!.toString(), headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]))}),
  })
  try {
    await eventually(async () => got.length >= want, {what: `${want} messages on ${topic}`, timeoutMs: 30_000})
    return got
  } finally {
    await consumer.disconnect()
  }
}

describe('Kafka consumer in batches', () => {
  it('applies each message once in batches; a poison message and a flaky one fail only themselves', async () => {
    const ns = prefixNamespace(`${uniqueName('kbatch')}_`)
    const topic = ns('events')
    await applyKafka(endpoints.kafka, {
      kafkaTopics: [{name: topic, partitions: 2}],
      rabbitExchanges: [],
      rabbitQueues: [],
      mongoIndexes: [],
      mongoDatabase: 'x',
    } as never)
    const keys = Array.from({length: 400}, (_, i) => `k${i}`)
    // Preloaded, so the consumer's first fetches return full batches.
    for (let i = 0; i < keys.length; i += 100) {
      await producer.send({topic, acks: -1, messages: keys.slice(i, i + 100).map((key) => ({key, value: key, partition: Number(key.slice(1)) % 2}))})
    }
    const applied = new Map<string, number>()
    const sizes: number[] = []
    let flaky = 2 // k77 fails twice, then succeeds
    const stats = {handled: 0, failed: 0, retried: 0, deadLettered: 0}
    const controller = new AbortController()
    const {stopped} = await startKafkaConsumer(
      {
        kafka: createKafka(endpoints.kafka, 'it-kafka-batch-consumer', logger),
        groupId: ns('group'),
        topics: [topic],
        backoffMs: [5, 5, 5],
        producer,
        logger,
        stats,
        maxBatch: 50,
        handleBatch: async (ms: ConsumedMessage[]) => {
          sizes.push(ms.length)
          const batchKeys = ms.map((m) => m.message.key!.toString())
          if (batchKeys.includes('k13')) throw new PoisonMessageError('k13 can never be applied')
          if (batchKeys.includes('k77') && flaky-- > 0) throw new Error('k77: the database blinked')
          for (const k of batchKeys) applied.set(k, (applied.get(k) ?? 0) + 1) // all or nothing, like a transaction
        },
      },
      controller.signal,
    )
    try {
      await eventually(async () => applied.size === keys.length - 1, {what: '399 keys applied', timeoutMs: 30_000})
      const dead = await readAll(`${topic}.dlq`, 1)
      expect(dead.map((d) => d.key)).toEqual(['k13'])
      expect(dead[0]!.headers).toMatchObject({'x-original-topic': topic, 'x-error-class': 'PoisonMessageError', 'x-attempts': '1'})
      expect([...applied.values()].every((n) => n === 1)).toBe(true)
      expect(applied.has('k13')).toBe(false)
      expect(Math.max(...sizes)).toBeGreaterThan(1) // batches, not one message at a time
      expect(Math.max(...sizes)).toBeLessThanOrEqual(50)
      await eventually(async () => stats.handled === 399, {what: 'handled counter'})
      expect(stats).toMatchObject({failed: 1, deadLettered: 1})
      expect(stats.retried).toBeGreaterThanOrEqual(1)
    } finally {
      controller.abort()
      await stopped
    }
  })
})
