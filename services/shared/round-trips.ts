import type {Redis} from 'ioredis'
import type {Producer} from 'kafkajs'
import type {MongoClient} from 'mongodb'
import type pg from 'pg'

/**
 * Requests a runner sent to each server: one per PostgreSQL query, Redis command, MongoDB command,
 * Kafka produce call and RabbitMQ confirmed publish. `mm status --json` shows them per runner, and
 * the benchmark divides their growth by the orders it sent ("calls per order").
 */
export interface RoundTrips {
  postgres: number
  redis: number
  mongo: number
  kafka: number
  rabbitmq: number
}

export const emptyRoundTrips = (): RoundTrips => ({postgres: 0, redis: 0, mongo: 0, kafka: 0, rabbitmq: 0})

const COUNTED = Symbol('mm.roundTrips')

/** Counts every query of a pg client (a pool's clients: call it from the pool's `connect` event). */
export const countPgClient = (client: pg.ClientBase, trips: RoundTrips): void => {
  const c = client as pg.ClientBase & {[COUNTED]?: true}
  if (c[COUNTED]) return
  c[COUNTED] = true
  const query = client.query.bind(client) as (...args: unknown[]) => unknown
  ;(client as unknown as {query: (...args: unknown[]) => unknown}).query = (...args: unknown[]) => {
    trips.postgres++
    return query(...args)
  }
}

export const countPool = (pool: pg.Pool, trips: RoundTrips): void => {
  pool.on('connect', (client) => countPgClient(client, trips))
}

export const countRedis = (redis: Redis, trips: RoundTrips): void => {
  const send = redis.sendCommand.bind(redis)
  redis.sendCommand = ((...args: Parameters<Redis['sendCommand']>) => {
    trips.redis++
    return send(...args)
  }) as Redis['sendCommand']
}

/** The client must be built with `monitorCommands: true`. */
export const countMongo = (mongo: MongoClient, trips: RoundTrips): void => {
  mongo.on('commandStarted', () => trips.mongo++)
}

export const countProducer = (producer: Producer, trips: RoundTrips): void => {
  const send = producer.send.bind(producer)
  const sendBatch = producer.sendBatch.bind(producer)
  producer.send = (record) => (trips.kafka++, send(record))
  producer.sendBatch = (batch) => (trips.kafka++, sendBatch(batch))
}
