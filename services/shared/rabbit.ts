import amqp from 'amqplib'

import type {Logger} from '../../src/lib/logger.js'
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

export const connectRabbit = async (url: string, logger: Logger): Promise<amqp.ChannelModel> => {
  const conn = await amqp.connect(url)
  conn.on('error', (error: Error) => logger.warn('rabbitmq.connection_error', {error: error.message}))
  return conn
}

export const createRabbitPublisher = async (conn: amqp.ChannelModel, trips?: RoundTrips): Promise<RabbitPublisher> => {
  const channel = await conn.createConfirmChannel()
  channel.on('error', () => {})
  return {
    async publishConfirmed(messages) {
      for (const m of messages) channel.publish(m.exchange, m.routingKey, m.body, m.options)
      if (trips) trips.rabbitmq++
      await channel.waitForConfirms()
    },
    close: () => channel.close().catch(() => {}),
  }
}
