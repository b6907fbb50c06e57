import type {Span} from '@opentelemetry/api'
import type {FastifyInstance, FastifyRequest} from 'fastify'
import {Redis} from 'ioredis'
import type {Kafka} from 'kafkajs'
import {MongoClient} from 'mongodb'
import type pg from 'pg'

import type {Logger} from './logger.js'
import {untilAborted} from './wait.js'
import {type ComponentConfig, emptyCounters, type Runner, type RunnerContext, type RunnerCounters, type RunningRunner} from './runner.js'
import {createPool} from './db.js'
import {createEventFeed, type FeedEntry} from './events-feed.js'
import {createKafka} from './kafka.js'
import {ATTR, SERVER_SPAN} from './tracing.js'
import {createRenewingProducer, type EventProducer} from './kafka-producer.js'
import {type Relay, startOutboxRelay} from './outbox.js'
import {connectRabbit, type RabbitLink, type RabbitPublisher} from './rabbit.js'
import {countMongo, countPool, countProducer, countRedis, emptyRoundTrips, type RoundTrips} from './round-trips.js'

/** The servers a component uses besides Redis (always there: the live event feed goes through it). */
export interface Needs {
  postgres?: boolean
  kafka?: boolean
  rabbitmq?: boolean
  mongo?: boolean
}

/** What every component gets. */
export interface BaseKit {
  redis: Redis
  counters: RunnerCounters
  /** The same object as counters.calls: requests sent to each server. */
  trips: RoundTrips
  feed: (entry: Omit<FeedEntry, 'at' | 'runner'>) => void
  logger: Logger
}

/**
 * The clients a component asked for, opened before it starts and closed after it stopped: a
 * component that did not ask for Kafka has no `kit.producer`, and the compiler says so.
 */
export type Kit<N extends Needs = Needs> = BaseKit &
  (N['postgres'] extends true ? {pool: pg.Pool} : unknown) &
  (N['kafka'] extends true ? {kafka: Kafka; producer: EventProducer} : unknown) &
  (N['rabbitmq'] extends true ? {rabbit: RabbitLink} : unknown) &
  (N['mongo'] extends true ? {mongo: MongoClient} : unknown)

/**
 * How a component's clients are made, each from the URL the host gives (ctx.endpoints). The kit
 * counts their requests, listens to their errors, connects them (Redis and Mongo: returned not yet
 * connected) and closes them. `serverClients` is the real thing; a test may pass its own.
 */
export interface ClientFactories {
  postgres(url: string, logger: Logger): pg.Pool
  /** Created with `lazyConnect` (the kit calls connect()). */
  redis(url: string): Redis
  kafka(brokers: string[], clientId: string, logger: Logger): Kafka
  rabbitmq(url: string, logger: Logger): Promise<RabbitLink>
  /** With `monitorCommands`, or its requests go uncounted. */
  mongo(url: string): MongoClient
}

export const serverClients: ClientFactories = {
  postgres: (url, logger) => createPool(url, logger),
  // Auto-pipelining: commands issued in the same tick (the live feed's publishes, a batch's
  // increments) share one write and one round trip.
  redis: (url) => new Redis(url, {maxRetriesPerRequest: 3, lazyConnect: true, enableAutoPipelining: true}),
  kafka: (brokers, clientId, logger) => createKafka(brokers, clientId, logger),
  rabbitmq: (url, logger) => connectRabbit(url, logger),
  mongo: (url) => new MongoClient(url, {directConnection: true, monitorCommands: true}),
}

/**
 * What a component's factory receives from whoever composes the platform (mm's host, a test):
 * its slice of the settings, and how to make its clients. Where and when it runs (servers'
 * URLs, namespace, logger, API, abort signal) comes with `start(ctx)`.
 */
export interface ComponentDeps<C extends Partial<ComponentConfig> = Pick<ComponentConfig, 'retryBackoffMs'>> {
  config: C
  clients: ClientFactories
}

/** The component's outbox relay, reporting each published batch on the live feed. */
export const startRelay = (kit: Kit<{kafka: true}>, ctx: RunnerContext, schema: string, rabbit?: RabbitPublisher): Relay =>
  startOutboxRelay(
    {
      url: ctx.endpoints.postgres,
      schema,
      producer: kit.producer,
      rabbit,
      logger: ctx.logger,
      trips: kit.trips,
      onPublished: (count) => kit.feed({type: 'outbox', outcome: 'published', detail: `${count} event(s)`}),
    },
    ctx.signal,
  )

export interface Started {
  routes?: (app: FastifyInstance) => void | Promise<void>
  /** Background work (consumers, relays) that resolves once it stopped after the signal. */
  tasks?: Promise<void>[]
  info?: () => Record<string, unknown>
}

/**
 * Builds a Runner from a component definition: opens the clients it needs (made by `clients`),
 * starts it, and on abort waits for its tasks (in-flight work finishes) before closing the clients.
 */
export const defineComponent = <const N extends Needs>(
  name: string,
  needs: N,
  clients: ClientFactories,
  start: (kit: Kit<N>, ctx: RunnerContext) => Promise<Started>,
): Runner => ({
  name,
  async start(ctx: RunnerContext): Promise<RunningRunner> {
    const trips = emptyRoundTrips()
    const counters = {...emptyCounters(), calls: trips}
    const closers: (() => Promise<unknown>)[] = []
    // Filled below with what `needs` asked for; typed for the component by Kit<N>.
    const kit = {counters, trips, logger: ctx.logger} as BaseKit & Partial<Kit<{postgres: true; kafka: true; rabbitmq: true; mongo: true}>>
    const closeAll = async () => {
      for (const close of closers.reverse()) await close().catch(() => {})
    }
    try {
      if (needs.postgres) {
        const pool = (kit.pool = clients.postgres(ctx.endpoints.postgres, ctx.logger))
        countPool(pool, trips)
        closers.push(() => pool.end())
      }
      // Redis always: the live event feed goes through it.
      kit.redis = clients.redis(ctx.endpoints.redis)
      countRedis(kit.redis, trips)
      kit.redis.on('error', (error) => ctx.logger.warn('redis.error', {error: error.message}))
      await kit.redis.connect()
      closers.push(async () => kit.redis.disconnect())
      kit.feed = createEventFeed(kit.redis, name)
      if (needs.kafka) {
        kit.kafka = clients.kafka(ctx.endpoints.kafka, `mm-${name}`, ctx.logger)
        const producer = createRenewingProducer(kit.kafka, ctx.logger, {name, onCreate: (p) => countProducer(p, trips)})
        kit.producer = producer
        await producer.connect()
        closers.push(() => producer.disconnect())
      }
      if (needs.rabbitmq) {
        const rabbit = (kit.rabbit = await clients.rabbitmq(ctx.endpoints.rabbitmq, ctx.logger))
        closers.push(() => rabbit.close())
      }
      if (needs.mongo) {
        const mongo = (kit.mongo = clients.mongo(ctx.endpoints.mongo))
        countMongo(mongo, trips)
        await mongo.connect()
        closers.push(() => mongo.close())
      }
      const started = await start(kit as Kit<N>, ctx)
      const stopped = (async () => {
        await untilAborted(ctx.signal)
        await Promise.allSettled(started.tasks ?? [])
        await closeAll()
      })()
      const routes = started.routes
      return {
        stopped,
        counters: () => ({...counters, calls: {...trips}}),
        info: started.info,
        routes:
          routes &&
          (async (app: FastifyInstance) => {
            app.addHook('onRequest', async (req) => {
              counters.httpRequests++
              nameRequestSpan(req, name)
            })
            await routes(app)
          }),
      }
    } catch (error) {
      await closeAll()
      throw error
    }
  },
})

/** Names the HTTP server span by its route (the http instrumentation knows only the method) and its component. */
const nameRequestSpan = (req: FastifyRequest, component: string): void => {
  const span = (req.raw as {[SERVER_SPAN]?: Span})[SERVER_SPAN]
  if (!span?.isRecording()) return
  const route = req.routeOptions.url ?? req.url.split('?')[0] ?? req.url
  span.updateName(`${req.method} ${route}`)
  span.setAttributes({'http.route': route, [ATTR.component]: component})
  const id = (req.params as Record<string, unknown> | undefined)?.id
  if (typeof id === 'string') span.setAttribute(ATTR.aggregateId, id)
}
