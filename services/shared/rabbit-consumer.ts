import type amqp from 'amqplib'

import type {Logger} from '../../src/lib/logger.js'
import {sleep, untilAborted} from '../../src/lib/proc.js'
import {dlqOf} from '../../src/infra/topology/spec.js'
import {PoisonMessageError} from './errors.js'
import type {ConsumerStats} from './kafka.js'

export interface RabbitConsumerDeps {
  conn: amqp.ChannelModel
  queue: string
  /** Unacked messages the broker may send ahead. Default 200. */
  prefetch?: number
  /** Most messages given to handleBatch at once. Default 100. */
  maxBatch?: number
  /**
   * Applies the effects of a batch of deliveries, in order, atomically (one transaction: all or
   * none). Throw PoisonMessageError for what can never succeed. When a batch fails its messages are
   * retried one at a time, so only the failing one is retried and dead-lettered.
   */
  handleBatch: (msgs: amqp.ConsumeMessage[]) => Promise<void>
  backoffMs: number[]
  logger: Logger
  stats: ConsumerStats
  /** Told of every dead letter once the broker confirmed it (the live feed shows them). */
  onDeadLetter?: (msg: amqp.ConsumeMessage, error: Error) => void
}

const toError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)))

/**
 * Consumes a queue in batches: what the prefetch window delivered in one read (up to maxBatch)
 * is handled at once and acked with one `ack(last, multiple)`, only after the effect. A failing
 * batch goes one message at a time; what fails for good is published to `<queue>.dlq` with the
 * reason in headers (x-error-class, x-error-message, …) on a confirm channel, and acked only once
 * the broker confirmed the dead letter. Batches run one after another, so a multiple ack never
 * covers a message still being handled. On abort, the batch in flight finishes and the rest goes
 * back to the queue.
 */
export const startRabbitConsumer = async (deps: RabbitConsumerDeps, signal: AbortSignal): Promise<{stopped: Promise<void>}> => {
  const maxBatch = deps.maxBatch ?? 100
  const channel = await deps.conn.createConfirmChannel()
  channel.on('error', (error: Error) => deps.logger.warn('rabbitmq.channel_error', {queue: deps.queue, error: error.message}))
  await channel.prefetch(deps.prefetch ?? 200)

  const deadLetter = async (msg: amqp.ConsumeMessage, error: Error, attempts: number) => {
    channel.publish('', dlqOf(deps.queue), msg.content, {
      ...msg.properties,
      headers: {
        ...msg.properties.headers,
        'x-original-queue': deps.queue,
        'x-original-exchange': msg.fields.exchange,
        'x-original-routing-key': msg.fields.routingKey,
        'x-error-class': error.name || 'Error',
        'x-error-message': error.message.slice(0, 1000),
        'x-attempts': attempts,
        'x-failed-at': new Date().toISOString(),
      },
    })
    await channel.waitForConfirms()
    deps.stats.failed++
    deps.stats.deadLettered++
    deps.logger.warn('consumer.dead_lettered', {queue: deps.queue, messageId: msg.properties.messageId, error: error.message})
    deps.onDeadLetter?.(msg, error)
  }

  /** One message alone, retried with backoff, then dead-lettered; false when shutting down mid-retry (it is requeued). */
  const one = async (msg: amqp.ConsumeMessage): Promise<boolean> => {
    for (let attempt = 1; ; attempt++) {
      try {
        await deps.handleBatch([msg])
        deps.stats.handled++
        return true
      } catch (error) {
        const err = toError(error)
        if (err instanceof PoisonMessageError || attempt > deps.backoffMs.length) {
          await deadLetter(msg, err, attempt)
          return true
        }
        if (signal.aborted) return false
        deps.stats.retried++
        deps.logger.warn('consumer.retry', {queue: deps.queue, attempt, error: err.message})
        await sleep(deps.backoffMs[attempt - 1]!, signal)
      }
    }
  }

  const handle = async (msgs: amqp.ConsumeMessage[]) => {
    if (msgs.length > 1) {
      try {
        await deps.handleBatch(msgs)
        deps.stats.handled += msgs.length
        channel.ack(msgs.at(-1)!, true)
        return
      } catch (error) {
        deps.logger.debug('consumer.batch_fallback', {queue: deps.queue, size: msgs.length, error: toError(error).message})
      }
    }
    for (const [i, msg] of msgs.entries()) {
      if (!(await one(msg))) {
        channel.nack(msgs.at(-1)!, true, true) // shutting down: this one and the rest go back to the queue
        return
      }
      channel.ack(msgs[i]!)
    }
  }

  return consumeInBatches({channel, queue: deps.queue, maxBatch, logger: deps.logger, handle}, signal)
}

/**
 * The delivery loop of a batching consumer: what one read of the prefetch window brought is
 * handed to `handle` in batches of at most `maxBatch`, one batch at a time (so a multiple ack
 * never covers a message still being handled, while the next batch fills up in the buffer). On
 * abort the consumer is cancelled, the batch in flight finishes, what is still buffered goes back
 * to the queue, and the channel is closed.
 */
export const consumeInBatches = async (
  o: {channel: amqp.Channel; queue: string; maxBatch: number; logger: Logger; handle: (msgs: amqp.ConsumeMessage[]) => Promise<void>},
  signal: AbortSignal,
): Promise<{stopped: Promise<void>}> => {
  const {channel, queue} = o
  let closed = false
  channel.on('close', () => (closed = true))
  const buffer: amqp.ConsumeMessage[] = []
  let draining: Promise<void> | undefined
  const drain = () => {
    if (draining || closed || signal.aborted) return
    draining = (async () => {
      await new Promise((resolve) => setImmediate(resolve)) // gather what this read delivered
      while (buffer.length > 0 && !closed && !signal.aborted) await o.handle(buffer.splice(0, o.maxBatch))
    })()
      .catch((error: unknown) => o.logger.error('consumer.batch_failed', {queue, error: toError(error).message}))
      .finally(() => {
        draining = undefined
        if (buffer.length > 0) drain()
      })
  }

  const {consumerTag} = await channel.consume(queue, (msg) => {
    if (!msg) return
    buffer.push(msg)
    drain()
  })

  const stopped = untilAborted(signal).then(async () => {
    await channel.cancel(consumerTag).catch(() => {})
    await draining
    if (!closed && buffer.length > 0) {
      try {
        channel.nack(buffer.at(-1)!, true, true) // still buffered: back to the queue
      } catch {
        // the channel closed meanwhile: the broker requeues them
      }
    }
    buffer.length = 0
    await channel.close().catch(() => {})
  })
  return {stopped}
}
