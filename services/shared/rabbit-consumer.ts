import type amqp from 'amqplib'

import type {Logger} from '../../src/lib/logger.js'
import {sleep} from '../../src/lib/proc.js'
import {dlqOf} from '../../src/infra/topology/spec.js'
import {PoisonMessageError} from './errors.js'
import type {ConsumerStats} from './kafka.js'

export interface RabbitConsumerDeps {
  conn: amqp.ChannelModel
  queue: string
  prefetch?: number
  handle: (msg: amqp.ConsumeMessage) => Promise<void>
  backoffMs: number[]
  logger: Logger
  stats: ConsumerStats
  /** Told of every dead letter once the broker confirmed it (the live feed shows them). */
  onDeadLetter?: (msg: amqp.ConsumeMessage, error: Error) => void
}

/**
 * Consumes a queue, acking only after the effect. What fails for good is published to
 * `<queue>.dlq` with the reason in headers (x-error-class, x-error-message, …) on a confirm
 * channel, and acked only once the broker confirmed the dead letter.
 */
export const startRabbitConsumer = async (deps: RabbitConsumerDeps, signal: AbortSignal): Promise<{stopped: Promise<void>}> => {
  const channel = await deps.conn.createConfirmChannel()
  channel.on('error', (error: Error) => deps.logger.warn('rabbitmq.channel_error', {queue: deps.queue, error: error.message}))
  await channel.prefetch(deps.prefetch ?? 50)
  let inFlight = 0
  let idle: (() => void) | undefined

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
    deps.stats.deadLettered++
    deps.logger.warn('consumer.dead_lettered', {queue: deps.queue, messageId: msg.properties.messageId, error: error.message})
    deps.onDeadLetter?.(msg, error)
  }

  const {consumerTag} = await channel.consume(deps.queue, (msg) => {
    if (!msg) return
    inFlight++
    void (async () => {
      let attempt = 0
      try {
        for (;;) {
          attempt++
          try {
            await deps.handle(msg)
            deps.stats.handled++
            channel.ack(msg)
            return
          } catch (error) {
            const err = error instanceof Error ? error : new Error(String(error))
            if (err instanceof PoisonMessageError || attempt > deps.backoffMs.length) {
              deps.stats.failed++
              await deadLetter(msg, err, attempt)
              channel.ack(msg)
              return
            }
            if (signal.aborted) {
              channel.nack(msg, false, true) // back to the queue for the next consumer
              return
            }
            deps.stats.retried++
            await sleep(deps.backoffMs[attempt - 1]!)
          }
        }
      } catch (error) {
        deps.logger.error('consumer.ack_failed', {queue: deps.queue, error: (error as Error).message})
      } finally {
        inFlight--
        if (inFlight === 0) idle?.()
      }
    })()
  })

  const stopped = new Promise<void>((resolve) => {
    signal.addEventListener(
      'abort',
      () =>
        void (async () => {
          await channel.cancel(consumerTag).catch(() => {})
          if (inFlight > 0) await new Promise<void>((r) => (idle = r))
          await channel.close().catch(() => {})
          resolve()
        })(),
      {once: true},
    )
  })
  return {stopped}
}
