import {SpanKind} from '@opentelemetry/api'
import type {Consumer, IHeaders, KafkaMessage} from 'kafkajs'

import {Kafka, logLevel} from './kafkajs.js'

import type {Logger} from './logger.js'
import type {EventProducer} from './kafka-producer.js'
import {sleep} from './wait.js'
import {dlqOf} from './naming.js'
import {PoisonMessageError} from './errors.js'
import {ATTR, failSpan, messageSpan, processSpans} from './tracing.js'

/** A kafkajs client whose logs go to mm's logger (never to the console behind the dashboard). */
export const createKafka = (brokers: string[], clientId: string, logger: Logger): Kafka =>
  new Kafka({
    clientId,
    brokers,
    logLevel: logLevel.WARN,
    retry: {retries: 8, initialRetryTime: 200},
    logCreator:
      () =>
      ({level, log}) => {
        const {message, ...rest} = log
        // A fresh broker answers these while it creates __consumer_offsets and the transaction log;
        // kafkajs retries them, so they are not worth a warning on a newcomer's first screen.
        if (/coordinator is not available|coordinator is loading/i.test(`${message} ${String(rest.error ?? '')}`)) return
        const fields = {message, ...Object.fromEntries(Object.entries(rest).filter(([k]) => k !== 'timestamp' && k !== 'logger'))}
        if (level <= logLevel.ERROR) logger.warn('kafka.error', fields)
        else logger.debug('kafka.log', fields)
      },
  })

export const headersToStrings = (headers: IHeaders | undefined): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v === undefined) continue
    out[k] = Array.isArray(v) ? v.map(String).join(',') : v.toString()
  }
  return out
}

export interface ConsumedMessage {
  topic: string
  partition: number
  message: KafkaMessage
}

export interface ConsumerStats {
  handled: number
  failed: number
  retried: number
  deadLettered: number
}

export interface KafkaConsumerDeps {
  kafka: Kafka
  groupId: string
  topics: string[]
  /**
   * Applies the effects of consecutive messages of one partition, in offset order, atomically
   * (one transaction: all or none). Throw PoisonMessageError for what can never succeed. When a
   * batch fails, its messages are retried one at a time, so only the failing one is retried and
   * dead-lettered.
   */
  handleBatch?: (ms: ConsumedMessage[]) => Promise<void>
  /** One message at a time (a handler that cannot batch). One of handle or handleBatch. */
  handle?: (m: ConsumedMessage) => Promise<void>
  /** Most messages given to handleBatch at once. Default 200. */
  maxBatch?: number
  /** Delays between attempts; its length is the number of retries. */
  backoffMs: number[]
  /** Producer used to write dead letters. */
  producer: EventProducer
  logger: Logger
  stats: ConsumerStats
  onDeadLetter?: (m: ConsumedMessage, error: Error) => void
  /** Partitions handled at once (order is kept within a partition). Default 8. */
  concurrency?: number
}

/**
 * How long the group coordinator keeps a member that stopped heartbeating. A runner killed with
 * SIGKILL cannot leave its groups, and the restarted runner's join waits until the dead member's
 * session expires: with 30 s, `mm up` took 29 s to repair after a supervisor `kill -9`. 6 s is the
 * broker's smallest allowed session (`group.min.session.timeout.ms`). Heartbeats go out from the
 * fetch loop and between chunks of a batch, each chunk being one transaction, so a live member
 * stays well inside it; a member that does miss it only rejoins and replays uncommitted messages,
 * which the idempotent handlers skip.
 */
const SESSION_TIMEOUT_MS = 6000
const HEARTBEAT_INTERVAL_MS = 1000

/**
 * A consumer whose offsets advance only after the effect (or the dead letter) is durable:
 * messages are handled in batches per partition (one transaction each, offsets resolved after it
 * committed); a failing batch falls back to one message at a time, which is retried with backoff,
 * then written to `<topic>.dlq` with its original key, value and headers byte-for-byte plus the
 * x-original-* and x-error-* headers of PLATFORM.md §4.
 */
export const startKafkaConsumer = async (
  deps: KafkaConsumerDeps,
  signal: AbortSignal,
  joinTimeoutMs = 60_000,
): Promise<{stopped: Promise<void>; consumer: Consumer}> => {
  const {handle, handleBatch} = deps
  if (!handle === !handleBatch) throw new Error('startKafkaConsumer needs exactly one of handle and handleBatch')
  const applyRaw = handleBatch ?? ((ms: ConsumedMessage[]) => handle!(ms[0]!))
  // Each message is processed in a span of the trace that published it (services/shared/tracing.ts).
  const spanAttributes = {
    'messaging.system': 'kafka',
    'messaging.operation.type': 'process',
    'messaging.consumer.group.name': deps.groupId,
    [ATTR.component]: deps.groupId,
  }
  const apply = (ms: ConsumedMessage[]) =>
    processSpans(
      `process ${ms[0]!.topic}`,
      {...spanAttributes, 'messaging.destination.name': ms[0]!.topic, 'messaging.destination.partition.id': String(ms[0]!.partition)},
      ms.map((m) => ({
        key: m.message.key?.toString() ?? '',
        headers: m.message.headers,
        brokerTimestamp: Number(m.message.timestamp) || undefined,
        attributes: () => ({'messaging.kafka.offset': Number(m.message.offset), ...eventAttributes(m.message.headers)}),
      })),
      () => applyRaw(ms),
    )
  const maxBatch = handleBatch ? (deps.maxBatch ?? 200) : 1
  // A fetch returns as soon as a message is there (minBytes 1); maxWait only bounds an idle long
  // poll. 500 ms rather than 100 ms: an idle supervisor used 7.8% of a core, 5.2% with 1 s.
  const consumer = deps.kafka.consumer({
    groupId: deps.groupId,
    sessionTimeout: SESSION_TIMEOUT_MS,
    heartbeatInterval: HEARTBEAT_INTERVAL_MS,
    maxWaitTimeInMs: 500,
  })
  let joinedResolve!: () => void
  const joined = new Promise<void>((resolve) => (joinedResolve = resolve))
  consumer.on(consumer.events.GROUP_JOIN, () => joinedResolve())
  await consumer.connect()
  await consumer.subscribe({topics: deps.topics, fromBeginning: true})

  /** One message alone: retried with backoff, then dead-lettered; throws when shutting down mid-retry. */
  const one = async (m: ConsumedMessage, heartbeat: () => Promise<void>): Promise<void> => {
    let attempt = 0
    for (;;) {
      attempt++
      try {
        await apply([m])
        deps.stats.handled++
        return
      } catch (error) {
        const err = error instanceof Error ? error : new Error(String(error))
        const poison = err instanceof PoisonMessageError
        if (poison || attempt > deps.backoffMs.length || signal.aborted) {
          if (signal.aborted && !poison) throw err // shutting down: leave it uncommitted for the next owner
          deps.stats.failed++
          await deadLetter(deps, m, err, attempt)
          return
        }
        deps.stats.retried++
        deps.logger.warn('consumer.retry', {topic: m.topic, offset: m.message.offset, attempt, error: err.message})
        await sleepWithHeartbeat(deps.backoffMs[attempt - 1]!, heartbeat)
      }
    }
  }

  // Offsets are resolved only after a batch's effects (or a message's dead letter) are durable;
  // kafkajs commits resolved offsets in the background and on disconnect. A crash can only replay
  // messages whose effects are already recorded, which the idempotent handlers skip. Partitions
  // are consumed concurrently; order holds within each partition (per aggregate key).
  await consumer.run({
    autoCommit: true,
    autoCommitInterval: 500,
    autoCommitThreshold: 500,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: deps.concurrency ?? 8,
    eachBatch: async ({batch, resolveOffset, heartbeat, isRunning, isStale}) => {
      const {topic, partition} = batch
      for (let i = 0; i < batch.messages.length; i += maxBatch) {
        if (!isRunning() || isStale()) return
        const chunk = batch.messages.slice(i, i + maxBatch).map((message) => ({topic, partition, message}))
        let ok = false
        if (chunk.length > 1 || !handle) {
          try {
            await apply(chunk)
            deps.stats.handled += chunk.length
            ok = true
          } catch (error) {
            if (signal.aborted && !(error instanceof PoisonMessageError)) throw error
            if (chunk.length > 1) deps.logger.debug('consumer.batch_fallback', {topic, partition, size: chunk.length, error: (error as Error).message})
          }
        }
        if (ok) resolveOffset(chunk.at(-1)!.message.offset)
        else {
          for (const m of chunk) {
            await one(m, heartbeat)
            resolveOffset(m.message.offset)
            await heartbeat() // one transaction per message here: keep the session alive between them
          }
        }
        await heartbeat()
      }
    },
  })

  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`consumer group ${deps.groupId} did not join within ${joinTimeoutMs}ms`)), joinTimeoutMs)
  })
  try {
    await Promise.race([joined, timedOut])
  } catch (error) {
    await consumer.disconnect().catch(() => {})
    throw error
  } finally {
    clearTimeout(timer)
  }

  // disconnect() stops fetching, waits for the batch in flight, commits resolved offsets and leaves the group.
  const stopped = new Promise<void>((resolve) => signal.addEventListener('abort', () => void consumer.disconnect().finally(resolve), {once: true}))
  return {stopped, consumer}
}

const eventAttributes = (headers: KafkaMessage['headers']): Record<string, string> => {
  const out: Record<string, string> = {}
  const type = headers?.['event-type']
  const id = headers?.['event-id']
  if (type) out[ATTR.eventType] = type.toString()
  if (id) out[ATTR.eventId] = id.toString()
  return out
}

const deadLetter = async (deps: KafkaConsumerDeps, m: ConsumedMessage, error: Error, attempts: number): Promise<void> => {
  const {topic, message} = m
  // The dead letter keeps the message's headers, traceparent included; a traced message's trace
  // gets a failed span saying where it went.
  const span = messageSpan(`dead-letter ${topic}`, SpanKind.PRODUCER, message.headers, () => ({
    'messaging.system': 'kafka',
    'messaging.destination.name': dlqOf(topic),
    [ATTR.component]: deps.groupId,
    [ATTR.aggregateId]: message.key?.toString() ?? '',
    'mm.attempts': attempts,
    ...eventAttributes(message.headers),
  }))
  if (span) failSpan(span, error)
  try {
    await sendDeadLetter(deps, m, error, attempts)
  } finally {
    span?.end()
  }
  deps.stats.deadLettered++
  deps.logger.warn('consumer.dead_lettered', {topic, offset: message.offset, error: error.message})
  deps.onDeadLetter?.(m, error)
}

const sendDeadLetter = async (deps: KafkaConsumerDeps, m: ConsumedMessage, error: Error, attempts: number): Promise<void> => {
  const {topic, partition, message} = m
  await deps.producer.send({
    topic: dlqOf(topic),
    acks: -1,
    messages: [
      {
        key: message.key,
        value: message.value,
        headers: {
          ...message.headers,
          'x-original-topic': topic,
          'x-original-partition': String(partition),
          'x-original-offset': message.offset,
          // Several groups read a topic: each that fails on a message dead-letters its own copy.
          'x-consumer-group': deps.groupId,
          'x-error-class': error.name || 'Error',
          'x-error-message': error.message.slice(0, 1000),
          'x-attempts': String(attempts),
          'x-failed-at': new Date().toISOString(),
        },
      },
    ],
  })
}

const sleepWithHeartbeat = async (ms: number, heartbeat: () => Promise<void>): Promise<void> => {
  const until = Date.now() + ms
  while (Date.now() < until) {
    await sleep(Math.min(2000, until - Date.now()))
    await heartbeat().catch(() => {})
  }
}
