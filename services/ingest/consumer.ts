import type amqp from 'amqplib'
import type {Redis} from 'ioredis'

import {dlqOf, type Namespace} from '../shared/naming.js'
import type {Logger} from '../shared/logger.js'
import {sleep} from '../shared/wait.js'
import type {RunnerCounters} from '../shared/runner.js'
import type {Kit} from '../shared/component.js'
import {consumeInBatches, type ConsumerRun, keepConsuming} from '../shared/rabbit-consumer.js'
import type {RabbitLink} from '../shared/rabbit.js'
import {AggregateOverflowError, type PulseOutcome, type PulseWrite, recordPulses} from './aggregate.js'
import {parsePulse} from './pulse.js'
import {PULSES_QUEUE} from './topology.js'

/** Unacked pulses the broker may send ahead of the consumer; batches are at most half of it. */
export const PULSES_PREFETCH = 1000

export interface PulseConsumerDeps {
  rabbit: RabbitLink
  redis: Redis
  ns: Namespace
  backoffMs: readonly number[]
  logger: Logger
  stats: Pick<RunnerCounters, 'handled' | 'failed' | 'retried' | 'deadLettered'>
  feed: Kit['feed']
  /** Moves the live aggregates to PostgreSQL: called when a key reached the live limit. */
  flush: () => Promise<unknown>
  /** Unacked messages the broker may send ahead (default PULSES_PREFETCH). */
  prefetch?: number
  /** Most messages handled as one batch (default half the prefetch). */
  maxBatch?: number
  /** Tests: after a batch was written to Redis, before it is acked (a crash in between). */
  beforeAck?: (batchSize: number) => void | Promise<void>
}

/** One delivery in a batch: a valid pulse to record, or an error that sends it to the DLQ. */
interface Item {
  msg: amqp.ConsumeMessage
  write?: PulseWrite
  outcome?: PulseOutcome
  error?: Error
  attempts: number
  /** Recorded in Redis, or its dead letter confirmed: it may be acked. */
  done: boolean
}

const toError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)))

const itemOf = (msg: amqp.ConsumeMessage): Item => {
  const raw: unknown = msg.properties.messageId
  const messageId = typeof raw === 'string' && raw !== '' ? raw : undefined
  try {
    return {msg, write: {pulse: parsePulse(msg.content, msg.properties), messageId}, attempts: 1, done: false}
  } catch (error) {
    return {msg, error: toError(error), attempts: 1, done: false} // never valid: dead-lettered at once
  }
}

/**
 * Consumes `pulses` in batches (services/ingest/FLUSH.md, "The consumer"): what the prefetch window
 * delivered in one read, up to maxBatch, is validated (invalid → `pulses.dlq` with the reason,
 * confirmed by the broker), recorded in Redis with ONE script call (dedupe by message_id + exact
 * increments), then acked with one `ack(last, multiple)`, only after the Redis write. A Redis
 * failure retries the rest of the batch with backoff, then each message alone: only a message
 * that fails for good is dead-lettered. On abort the batch in flight finishes and the rest is
 * requeued.
 */
export const startPulseConsumer = async (deps: PulseConsumerDeps, signal: AbortSignal): Promise<{stopped: Promise<void>}> => {
  const queue = deps.ns(PULSES_QUEUE)
  const prefetch = deps.prefetch ?? PULSES_PREFETCH
  const maxBatch = deps.maxBatch ?? Math.max(1, Math.floor(prefetch / 2))
  // The pulses on one channel, opened again by keepConsuming after the connection was lost.
  const consumeOn = (channel: amqp.ConfirmChannel): Promise<ConsumerRun> => {
    const deadLetter = async (items: Item[]) => {
      if (items.length === 0) return
      for (const {msg, error, attempts} of items) {
        channel.publish('', dlqOf(queue), msg.content, {
          ...msg.properties,
          headers: {
            ...msg.properties.headers,
            'x-original-queue': queue,
            'x-original-exchange': msg.fields.exchange,
            'x-original-routing-key': msg.fields.routingKey,
            'x-error-class': error!.name || 'Error',
            'x-error-message': error!.message.slice(0, 1000),
            'x-attempts': attempts,
            'x-failed-at': new Date().toISOString(),
          },
        })
      }
      await channel.waitForConfirms()
      for (const item of items) {
        item.done = true
        deps.stats.failed++
        deps.stats.deadLettered++
        const id = item.msg.properties.messageId as string | undefined
        deps.logger.warn('consumer.dead_lettered', {queue, messageId: id, error: item.error!.message})
        deps.feed({type: 'pulse', id, outcome: 'dead-lettered', detail: item.error!.message})
      }
    }

    /** One script call for the pulses not recorded yet; on overflow flush once, then go on. */
    const recordRest = async (items: Item[], flushed: Set<Item>): Promise<void> => {
      for (let rest = items; rest.length > 0;) {
        const {outcomes, error} = await recordPulses(
          deps.redis,
          deps.ns,
          rest.map((i) => i.write!),
        )
        outcomes.forEach((outcome, j) => outcome && Object.assign(rest[j]!, {outcome, done: true}))
        rest = rest.filter((i) => !i.done)
        if (!error) continue
        // The live total of a key reached the Redis integer limit: move it to PostgreSQL, go on.
        if (!(error instanceof AggregateOverflowError) || flushed.has(rest[0]!)) throw error
        flushed.add(rest[0]!)
        deps.logger.warn('ingest.aggregate_overflow_flush', {error: error.message})
        await deps.flush()
      }
    }

    /** The valid pulses of a batch: all at once with retries, then one by one. False when aborted. */
    const record = async (items: Item[]): Promise<boolean> => {
      const flushed = new Set<Item>()
      let rest = items
      for (let attempt = 1; rest.length > 0; attempt++) {
        try {
          await recordRest(rest, flushed)
          return true
        } catch (error) {
          rest = rest.filter((i) => !i.done)
          if (signal.aborted) return false
          if (attempt > deps.backoffMs.length) break
          deps.stats.retried += rest.length
          deps.logger.warn('ingest.batch_retry', {queue, attempt, pulses: rest.length, error: toError(error).message})
          await sleep(deps.backoffMs[attempt - 1]!, signal)
        }
      }
      for (const item of rest) {
        if (signal.aborted) return false
        try {
          await recordRest([item], flushed)
        } catch (error) {
          item.error = toError(error)
          item.attempts = deps.backoffMs.length + 2
        }
      }
      return true
    }

    /** Validates a batch, starts its dead letters and records its valid pulses in Redis. */
    const writeBatch = async (msgs: amqp.ConsumeMessage[]) => {
      const batch = msgs.map(itemOf)
      const confirmed = deadLetter(batch.filter((i) => i.error))
      confirmed.catch(() => {}) // awaited in settleBatch
      const valid = batch.filter((i) => i.write)
      const completed = await record(valid)
      return {batch, valid, confirmed, completed}
    }

    /** Dead letters confirmed, then one ack for the whole batch (or one per message if some must go back). */
    const settleBatch = async ({batch, valid, confirmed, completed}: Awaited<ReturnType<typeof writeBatch>>) => {
      await deps.beforeAck?.(batch.length)
      let dlqFailure: Error | undefined
      await confirmed.catch((error: unknown) => (dlqFailure = toError(error)))
      await deadLetter(valid.filter((i) => i.error && !i.done)).catch((error: unknown) => (dlqFailure = toError(error)))
      if (dlqFailure) deps.logger.error('consumer.dead_letter_failed', {queue, error: dlqFailure.message})
      if (batch.every((i) => i.done)) channel.ack(batch.at(-1)!.msg, true)
      else
        for (const i of batch)
          if (i.done) channel.ack(i.msg)
          else channel.nack(i.msg, false, true) // back to the queue
      const recorded = valid.filter((i) => i.outcome)
      deps.stats.handled += recorded.length
      if (recorded.length > 0) {
        const duplicates = recorded.filter((i) => i.outcome === 'duplicate').length
        deps.feed({type: 'pulse', outcome: 'handled', detail: `${recorded.length} pulses (${duplicates} duplicate)`})
      }
      if (!completed) deps.logger.info('ingest.batch_interrupted', {queue, requeued: batch.filter((i) => !i.done).length})
    }

    // One batch at a time (two in flight measured no faster): while one waits for Redis, the next
    // fills up in the buffer.
    return consumeInBatches({channel, queue, maxBatch, logger: deps.logger, handle: async (msgs) => settleBatch(await writeBatch(msgs))}, signal)
  }
  return keepConsuming({link: deps.rabbit, queue, prefetch, logger: deps.logger}, signal, consumeOn)
}
