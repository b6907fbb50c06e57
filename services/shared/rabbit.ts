import amqp from 'amqplib'

import type {Logger} from './logger.js'
import {sleep} from './wait.js'
import type {RoundTrips} from './round-trips.js'

export interface RabbitPublish {
  exchange: string
  routingKey: string
  body: Buffer
  options?: amqp.Options.Publish
}

/** Publishes on a confirm channel and resolves only once the broker confirmed every message. */
export interface RabbitPublisher {
  publishConfirmed(messages: RabbitPublish[]): Promise<void>
  close(): Promise<void>
}

/**
 * A RabbitMQ connection that comes back. amqplib's connection dies with the broker (or the
 * network) and never reopens; this one reconnects with backoff (200 ms doubling to 5 s) until it
 * is closed, and the consumers and the publisher below open fresh channels on it.
 * Hand-written rather than amqp-connection-manager: that library acks on whichever channel is
 * current, and a delivery tag from a channel that died is unknown to its successor (the broker
 * closes the channel for it); our consumers must ack on the channel that delivered, or not at all.
 */
export interface RabbitLink {
  /** The open connection; throws while it is down (a reconnect is under way). */
  current(): amqp.ChannelModel
  /** The open connection, waiting for the reconnect while it is down; rejects once `signal` aborts or the link is closed. */
  connection(signal: AbortSignal): Promise<amqp.ChannelModel>
  /** True once close() was called: no reconnect follows. */
  readonly closed: boolean
  close(): Promise<void>
}

export const connectRabbit = async (url: string, logger: Logger): Promise<RabbitLink> => {
  let closing = false
  let conn: amqp.ChannelModel | undefined
  let reconnecting: Promise<amqp.ChannelModel> | undefined
  const open = async (): Promise<amqp.ChannelModel> => {
    const c = await amqp.connect(url)
    c.on('error', (error: Error) => logger.warn('rabbitmq.connection_error', {error: error.message}))
    c.on('close', () => {
      if (conn === c) conn = undefined
      if (closing) return
      logger.warn('rabbitmq.connection_lost', {})
      void reconnect().catch(() => {})
    })
    return c
  }
  const reconnect = (): Promise<amqp.ChannelModel> =>
    (reconnecting ??= (async () => {
      for (let delay = 200; ; delay = Math.min(delay * 2, 5000)) {
        if (closing) throw new Error('the RabbitMQ link is closed')
        try {
          conn = await open()
          logger.info('rabbitmq.reconnected', {})
          return conn
        } catch (error) {
          logger.debug('rabbitmq.reconnect_failed', {error: (error as Error).message, retryInMs: delay})
          await sleep(delay)
        }
      }
    })().finally(() => (reconnecting = undefined)))
  conn = await open()
  return {
    current() {
      if (!conn) throw new Error('RabbitMQ connection lost; reconnecting')
      return conn
    },
    async connection(signal) {
      if (conn) return conn
      if (signal.aborted) throw new Error('aborted')
      let onAbort!: () => void
      const aborted = new Promise<never>((_, reject) => {
        onAbort = () => reject(new Error('aborted'))
        signal.addEventListener('abort', onAbort, {once: true})
      })
      aborted.catch(() => {})
      try {
        return await Promise.race([reconnect(), aborted])
      } finally {
        signal.removeEventListener('abort', onAbort)
      }
    },
    get closed() {
      return closing
    },
    async close() {
      closing = true
      await conn?.close().catch(() => {})
    },
  }
}

/**
 * A confirm channel on the link, opened again after it was lost. While the connection is down
 * publishConfirmed throws at once (the outbox relay retries later); a publish the broker never
 * confirmed counts as not done.
 */
export const createRabbitPublisher = async (link: RabbitLink, trips?: RoundTrips): Promise<RabbitPublisher> => {
  let channel: amqp.ConfirmChannel | undefined
  const open = async (): Promise<amqp.ConfirmChannel> => {
    const ch = await link.current().createConfirmChannel()
    ch.on('error', () => {})
    ch.on('close', () => {
      if (channel === ch) channel = undefined
    })
    return (channel = ch)
  }
  await open()
  return {
    async publishConfirmed(messages) {
      const ch = channel ?? (await open())
      for (const m of messages) ch.publish(m.exchange, m.routingKey, m.body, m.options)
      if (trips) trips.rabbitmq++
      await ch.waitForConfirms()
    },
    close: async () => {
      await channel?.close().catch(() => {})
    },
  }
}
