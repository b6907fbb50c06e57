import {Redis} from 'ioredis'
import {MongoClient} from 'mongodb'
import type pg from 'pg'

import {ingestStatus, type IngestStatus} from '../../../services/ingest/index.js'
import {createPool} from '../../../services/shared/db.js'
import type {Admin} from 'kafkajs'

import {managementFetch} from '../../infra/probes.js'
import {type Namespace, rootNamespace} from '../../infra/topology/spec.js'
import type {Endpoints, Prober} from '../../infra/types.js'
import {errorMessage} from '../../lib/errors.js'
import type {Logger} from '../../lib/logger.js'
import {collectProjections, type ProjectionsSnapshot} from './projections.js'
import {collectKafka, collectRabbitQueues, type QueuesSnapshot} from './queues.js'
import {QUERY_GROUP} from '../../../services/query/topology.js'
import {MONGO_DATABASE} from '../../../services/shared/topology.js'

export interface PlatformSnapshot {
  at: string
  queues: QueuesSnapshot
  projections: ProjectionsSnapshot
  aggregates: (IngestStatus & {error?: undefined}) | {error: string}
}

export interface Collector {
  collect(): Promise<PlatformSnapshot>
  /** Health probes over the collector's open connections (cheap enough to run every second). */
  prober: Prober
  close(): Promise<void>
}

/** How many times its own duration a read of the projections' counts rests before the next. */
const PROJECTIONS_REST = 10

const within = <T>(ms: number, what: string, work: Promise<T>): Promise<T> =>
  Promise.race([work, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer within ${ms}ms`)), ms).unref())])

/**
 * The one source of the platform's numbers: `mm status --json` takes one snapshot, `mm dash`
 * keeps a collector open and takes one per refresh, so a panel and its JSON never disagree.
 * Clients connect lazily and reconnect on their own; a server that is down shows as an error in
 * its part of the snapshot, never as a thrown error.
 */
/** ioredis words an unreachable server as its own retry limit ("Reached the max retries per request limit"). */
const redisError = (error: unknown): string => ((error as {name?: string}).name === 'MaxRetriesPerRequestError' ? 'Redis is unreachable' : errorMessage(error))

export const createCollector = (
  endpoints: Endpoints,
  logger: Logger,
  ns: Namespace = rootNamespace,
  {
    projectionsRest = PROJECTIONS_REST,
    projectionsWaitMs,
  }: {
    projectionsRest?: number
    /**
     * How long a snapshot waits for a count of the views under way before it goes without it
     * (the last counts, or `counting` before the first): the dashboard shows everything else at
     * once while a large read model is counted. Unset (mm status, mm wait): it waits.
     */
    projectionsWaitMs?: number
  } = {},
): Collector => {
  let pool: pg.Pool | undefined
  let redis: Redis | undefined
  let mongo: Promise<MongoClient> | undefined
  // After close() no client is opened again: a snapshot still in flight when mm dash quits would
  // otherwise open a fresh one behind close() and keep the process alive (seen: a quit dash that
  // never exited, holding a Kafka connection).
  let closed = false
  const closedError = () => new Error('the collector is closed')
  const ensureOpen = () => {
    if (closed) throw closedError()
  }
  // Kafka reads under way: close() lets them finish before it disconnects the admin, since a
  // request after its disconnect would connect the broker again (and keep the process alive).
  const kafkaInFlight = new Set<Promise<unknown>>()
  const kafkaWork = <T>(p: Promise<T>): Promise<T> => {
    kafkaInFlight.add(p)
    void p.finally(() => kafkaInFlight.delete(p)).catch(() => {})
    return p
  }
  const whileOpen =
    <A extends unknown[], T>(fn: (...args: A) => Promise<T>) =>
    (...args: A): Promise<T> =>
      closed ? Promise.reject(closedError()) : fn(...args)
  const getPool = () => {
    ensureOpen()
    return (pool ??= createPool(endpoints.postgres, logger, 2))
  }
  const getRedis = () => {
    ensureOpen()
    if (!redis) {
      redis = new Redis(endpoints.redis, {maxRetriesPerRequest: 1, connectTimeout: 2000})
      redis.on('error', (error) => logger.debug('collector.redis_error', {error: error.message}))
    }
    return redis
  }
  // Connected once, explicitly: a client whose first connect failed stays closed for good and
  // answers every later read with "Topology is closed". After a failed read the next one gets a
  // new client; once connected, the driver reconnects by itself after a server comes back.
  const getMongo = async () => {
    ensureOpen()
    return (mongo ??= new MongoClient(endpoints.mongo, {directConnection: true, serverSelectionTimeoutMS: 2000}).connect())
  }
  const resetMongo = () => {
    const m = mongo
    mongo = undefined
    void m?.then((c) => c.close()).catch(() => {})
  }
  // One connected admin, shared by concurrent callers (a promise, so two callers never make two).
  let admin: Promise<Admin> | undefined
  const getAdmin = whileOpen(
    (): Promise<Admin> =>
      (admin ??= (async () => {
        const {Kafka, logLevel} = await import('../../../services/shared/kafkajs.js')
        const a = new Kafka({
          clientId: 'mm-collect',
          brokers: endpoints.kafka,
          logLevel: logLevel.NOTHING,
          connectionTimeout: 2000,
          requestTimeout: 3000,
          retry: {retries: 0},
        }).admin()
        await a.connect()
        if (closed) {
          // close() ran while this connected: it was not there to disconnect
          await a.disconnect().catch(() => {})
          throw closedError()
        }
        return a
      })()),
  )
  const resetAdmin = async () => {
    const a = admin
    admin = undefined // reconnect next time
    await a?.then((x) => x.disconnect()).catch(() => {})
  }
  const prober: Prober = whileOpen(async (name, e, timeoutMs) => {
    switch (name) {
      case 'postgres': {
        const {rows} = await within(timeoutMs, 'postgres', getPool().query<{v: string}>("SELECT current_setting('server_version') AS v"))
        return {version: rows[0]?.v.split(' ')[0]}
      }
      case 'redis': {
        const info = await within(timeoutMs, 'redis', getRedis().info('server'))
        return {version: /redis_version:(\S+)/.exec(info)?.[1]}
      }
      case 'rabbitmq': {
        const res = await managementFetch(e.rabbitmqManagement, '/api/overview', {signal: AbortSignal.timeout(timeoutMs)})
        if (!res.ok) throw new Error(`rabbitmq management API answered ${res.status}`)
        return {version: ((await res.json()) as {rabbitmq_version?: string}).rabbitmq_version}
      }
      case 'kafka': {
        try {
          const cluster = await within(timeoutMs, 'kafka', kafkaWork(getAdmin().then((a) => a.describeCluster())))
          if (cluster.brokers.length === 0) throw new Error('kafka: no broker in the cluster')
          return {}
        } catch (error) {
          await resetAdmin()
          throw error
        }
      }
      case 'mongo': {
        try {
          const info = await within(timeoutMs, 'mongo', (await getMongo()).db('admin').command({buildInfo: 1}))
          return {version: String(info.version)}
        } catch (error) {
          resetMongo()
          throw error
        }
      }
    }
  })
  // The read model's counts scan whole views where the server has no index that answers them
  // (mongo-java-server read all of 59,000 orders several times per snapshot, seconds each, while
  // the projector waited behind it). A collector asked again (mm dash) re-reads them only after
  // resting ten times as long as the last read took, so it never keeps the Mongo server busy more
  // than a tenth of the time; in between it repeats them, with the time they were measured.
  type Counted = {snapshot: ProjectionsSnapshot; startedAt: number; tookMs: number}
  let lastProjections: Counted | undefined
  const projectionsDue = () => !lastProjections || Date.now() - lastProjections.startedAt >= lastProjections.tookMs * projectionsRest
  // One count at a time: the read under way, and a finished one no snapshot has returned yet.
  let counting: Promise<void> | undefined
  let counted: Counted | undefined
  // The last count that failed, shown (not "counting") while the next try is under way.
  let failed: ProjectionsSnapshot | undefined
  const startCount = () => {
    const startedAt = Date.now()
    counting = getMongo()
      .then((m) => collectProjections(m.db(ns(MONGO_DATABASE)), getPool()))
      .catch((error: unknown): ProjectionsSnapshot => {
        resetMongo()
        return {drift: [], error: errorMessage(error)}
      })
      .then((snapshot) => {
        counted = {snapshot, startedAt, tookMs: Date.now() - startedAt}
      })
      .finally(() => (counting = undefined))
  }
  const countedInTime = (): Promise<unknown> | undefined => {
    if (!counting || projectionsWaitMs === undefined) return counting
    if (projectionsWaitMs <= 0) return undefined
    return Promise.race([counting, new Promise((r) => setTimeout(r, projectionsWaitMs).unref())])
  }
  return {
    prober,
    collect: whileOpen(collect),
    async close() {
      closed = true
      // They answer or time out within seconds (requestTimeout); a long count of the views is not
      // waited for: closing the Mongo client ends it.
      await Promise.race([Promise.allSettled([...kafkaInFlight]), new Promise((r) => setTimeout(r, 3500).unref())])
      redis?.disconnect()
      await Promise.allSettled([pool?.end(), mongo?.then((m) => m.close()), resetAdmin()])
    },
  }
  async function collect(): Promise<PlatformSnapshot> {
    if (!counting && !counted && projectionsDue()) startCount()
    const [rabbitmq, kafka, , aggregates] = await Promise.all([
      collectRabbitQueues(endpoints, ns),
      kafkaWork(collectKafka(getAdmin, ns)).then((k) => {
        if (k.error) void resetAdmin()
        return k
      }),
      countedInTime(),
      ingestStatus(getRedis(), ns, 5).catch((error: unknown) => ({error: redisError(error)})),
    ])
    const at = new Date().toISOString()
    const fresh = counted
    if (!fresh) return {at, queues: {rabbitmq, kafka}, projections: lastProjections?.snapshot ?? failed ?? {drift: [], counting: true}, aggregates}
    counted = undefined
    const projections = fresh.snapshot
    projections.measuredAt = new Date(fresh.startedAt).toISOString()
    // Counts that differ while events are still in flight are lag, not drift.
    if (!kafka.error && !projections.error) {
      const pending = kafka.lag.filter((l) => l.group === ns(QUERY_GROUP)).reduce((sum, l) => sum + l.lag, 0)
      projections.pendingEvents = pending
      if (pending > 0) projections.drift = []
    }
    // Kept with the lag that qualified them; an error is not kept, so recovery shows at once.
    lastProjections = projections.error ? undefined : fresh
    failed = projections.error ? projections : undefined
    return {at, queues: {rabbitmq, kafka}, projections, aggregates}
  }
}
