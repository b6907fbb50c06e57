import type amqp from 'amqplib'

import type {Logger} from './logger.js'
import {sleep, untilAborted} from './wait.js'
import {dlqOf} from './naming.js'
import {PoisonMessageError} from './errors.js'
import type {ConsumerStats} from './kafka.js'
import type {RabbitLink} from './rabbit.js'
import {ATTR, processSpans} from './tracing.js'

export interface RabbitConsumerDeps {
  link: RabbitLink
  queue: string
  /** The component consuming (names its spans); default the queue. */
  component?: string
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
export const startRabbitConsumer = (deps: RabbitConsumerDeps, signal: AbortSignal): Promise<{stopped: Promise<void>}> =>
  keepConsuming({link: deps.link, queue: deps.queue, prefetch: deps.prefetch ?? 200, logger: deps.logger}, signal, (channel) =>
    consumeOn(deps, channel, signal),
  )

/** The batching consumer on one channel, until the signal aborts or the channel closes. */
const consumeOn = (deps: RabbitConsumerDeps, channel: amqp.ConfirmChannel, signal: AbortSignal): Promise<ConsumerRun> => {
  const maxBatch = deps.maxBatch ?? 100
  // Each traced message is processed in a span of the trace that published it (services/shared/tracing.ts).
  const spanAttributes = {
    'messaging.system': 'rabbitmq',
    'messaging.operation.type': 'process',
    'messaging.destination.name': deps.queue,
    [ATTR.component]: deps.component ?? deps.queue,
  }
  const handleBatch = (msgs: amqp.ConsumeMessage[]) =>
    processSpans(
      `process ${deps.queue}`,
      spanAttributes,
      msgs.map((m) => ({
        key: String(m.properties.messageId ?? ''),
        headers: m.properties.headers,
        brokerTimestamp: typeof m.properties.timestamp === 'number' ? m.properties.timestamp * 1000 : undefined,
      })),
      () => deps.handleBatch(msgs),
    )
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
        await handleBatch([msg])
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
        await handleBatch(msgs)
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

/** A delivery loop on one channel: `stopped` says whether the signal aborted or the channel was lost. */
export interface ConsumerRun {
  stopped: Promise<'aborted' | 'closed'>
}

/**
 * Keeps a consumer alive across lost channels and connections (a broker restart, a network cut):
 * `open` starts the delivery loop on a fresh confirm channel, and when that channel closes under
 * it, a new one is opened as soon as the link has reconnected (backoff 200 ms doubling to 5 s).
 * What the lost channel delivered but had not acked, the broker requeues; the handlers are
 * idempotent, so the redelivery changes nothing. The first open is awaited, so a start-up failure
 * surfaces to the runner.
 */
export const keepConsuming = async (
  o: {link: RabbitLink; queue: string; prefetch: number; logger: Logger},
  signal: AbortSignal,
  open: (channel: amqp.ConfirmChannel) => Promise<ConsumerRun>,
): Promise<{stopped: Promise<void>}> => {
  const session = async (conn: amqp.ChannelModel): Promise<ConsumerRun> => {
    const channel = await conn.createConfirmChannel()
    channel.on('error', (error: Error) => o.logger.warn('rabbitmq.channel_error', {queue: o.queue, error: error.message}))
    await channel.prefetch(o.prefetch)
    return open(channel)
  }
  let run = await session(o.link.current())
  const stopped = (async () => {
    while ((await run.stopped) === 'closed' && !signal.aborted && !o.link.closed) {
      o.logger.warn('rabbitmq.consumer_lost', {queue: o.queue})
      for (let delay = 200; !signal.aborted; delay = Math.min(delay * 2, 5000)) {
        try {
          run = await session(await o.link.connection(signal))
          o.logger.info('rabbitmq.consumer_resumed', {queue: o.queue})
          break
        } catch (error) {
          if (signal.aborted || o.link.closed) return
          o.logger.debug('rabbitmq.consumer_reopen_failed', {queue: o.queue, error: toError(error).message, retryInMs: delay})
          await sleep(delay, signal)
        }
      }
    }
  })()
  return {stopped}
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
): Promise<ConsumerRun> => {
  const {channel, queue} = o
  let closed = false
  const lost = new Promise<void>((resolve) =>
    channel.on('close', () => {
      closed = true
      resolve()
    }),
  )
  const buffer: amqp.ConsumeMessage[] = []
  let draining: Promise<void> | undefined
  const drain = () => {
    if (draining || closed || signal.aborted) return
    draining = (async () => {
      await new Promise((resolve) => setImmediate(resolve)) // gather what this read delivered
      while (buffer.length > 0 && !closed && !signal.aborted) await o.handle(buffer.splice(0, o.maxBatch))
    })()
      // On a lost channel the ack fails; the broker requeues what was not acked.
      .catch((error: unknown) => {
        const fields = {queue, error: toError(error).message}
        if (closed) o.logger.warn('consumer.batch_failed', {...fields, channelClosed: true})
        else o.logger.error('consumer.batch_failed', fields)
      })
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

  const stopped = Promise.race([untilAborted(signal).then(() => 'aborted' as const), lost.then(() => 'closed' as const)]).then(async (why) => {
    if (why === 'closed') {
      await draining
      buffer.length = 0 // never acked on the lost channel: the broker requeued them
      return why
    }
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
    return why
  })
  return {stopped}
}
