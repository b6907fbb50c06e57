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
export const createCollector = (
  endpoints: Endpoints,
  logger: Logger,
  ns: Namespace = rootNamespace,
  {projectionsRest = PROJECTIONS_REST}: {projectionsRest?: number} = {},
): Collector => {
  let pool: pg.Pool | undefined
  let redis: Redis | undefined
  let mongo: MongoClient | undefined
  const getPool = () => (pool ??= createPool(endpoints.postgres, logger, 2))
  const getRedis = () => {
    if (!redis) {
      redis = new Redis(endpoints.redis, {maxRetriesPerRequest: 1, connectTimeout: 2000})
      redis.on('error', (error) => logger.debug('collector.redis_error', {error: error.message}))
    }
    return redis
  }
  // The driver connects on first use and reconnects by itself after a server comes back.
  const getMongo = async () => (mongo ??= new MongoClient(endpoints.mongo, {directConnection: true, serverSelectionTimeoutMS: 2000}))
  // One connected admin, shared by concurrent callers (a promise, so two callers never make two).
  let admin: Promise<Admin> | undefined
  const getAdmin = (): Promise<Admin> =>
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
      return a
    })())
  const resetAdmin = async () => {
    const a = admin
    admin = undefined // reconnect next time
    await a?.then((x) => x.disconnect()).catch(() => {})
  }
  const prober: Prober = async (name, e, timeoutMs) => {
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
          const cluster = await within(
            timeoutMs,
            'kafka',
            getAdmin().then((a) => a.describeCluster()),
          )
          if (cluster.brokers.length === 0) throw new Error('kafka: no broker in the cluster')
          return {}
        } catch (error) {
          await resetAdmin()
          throw error
        }
      }
      case 'mongo': {
        const info = await within(timeoutMs, 'mongo', (await getMongo()).db('admin').command({buildInfo: 1}))
        return {version: String(info.version)}
      }
    }
  }
  // The read model's counts scan whole views where the server has no index that answers them
  // (mongo-java-server read all of 59,000 orders several times per snapshot, seconds each, while
  // the projector waited behind it). A collector asked again (mm dash) re-reads them only after
  // resting ten times as long as the last read took, so it never keeps the Mongo server busy more
  // than a tenth of the time; in between it repeats them, with the time they were measured.
  let lastProjections: {snapshot: ProjectionsSnapshot; startedAt: number; tookMs: number} | undefined
  const projectionsDue = () => !lastProjections || Date.now() - lastProjections.startedAt >= lastProjections.tookMs * projectionsRest
  return {
    prober,
    async collect() {
      const due = projectionsDue()
      const startedAt = Date.now()
      const [rabbitmq, kafka, projections, aggregates] = await Promise.all([
        collectRabbitQueues(endpoints, ns),
        collectKafka(getAdmin, ns).then((k) => {
          if (k.error) void resetAdmin()
          return k
        }),
        due
          ? getMongo().then(
              (m) => collectProjections(m.db(ns(MONGO_DATABASE)), getPool()),
              (error: unknown) => ({drift: [], error: errorMessage(error)}) as ProjectionsSnapshot,
            )
          : undefined,
        ingestStatus(getRedis(), ns, 5).catch((error: unknown) => ({error: errorMessage(error)})),
      ])
      if (!projections) return {at: new Date().toISOString(), queues: {rabbitmq, kafka}, projections: lastProjections!.snapshot, aggregates}
      projections.measuredAt = new Date(startedAt).toISOString()
      // Counts that differ while events are still in flight are lag, not drift.
      if (!kafka.error && !projections.error) {
        const pending = kafka.lag.filter((l) => l.group === ns(QUERY_GROUP)).reduce((sum, l) => sum + l.lag, 0)
        projections.pendingEvents = pending
        if (pending > 0) projections.drift = []
      }
      // Kept with the lag that qualified them; an error is not kept, so recovery shows at once.
      lastProjections = projections.error ? undefined : {snapshot: projections, startedAt, tookMs: Date.now() - startedAt}
      return {at: new Date().toISOString(), queues: {rabbitmq, kafka}, projections, aggregates}
    },
    async close() {
      redis?.disconnect()
      await Promise.allSettled([pool?.end(), mongo?.close(), resetAdmin()])
    },
  }
}
