import {Redis} from 'ioredis'
import {MongoClient} from 'mongodb'
import type pg from 'pg'

import {ingestStatus, type IngestStatus} from '../../../services/ingest/index.js'
import {createPool} from '../../../services/shared/db.js'
import {type Namespace, rootNamespace} from '../../infra/topology/spec.js'
import type {Endpoints} from '../../infra/types.js'
import {errorMessage} from '../../lib/errors.js'
import type {Logger} from '../../lib/logger.js'
import {collectProjections, type ProjectionsSnapshot} from './projections.js'
import {collectKafka, collectRabbitQueues, type QueuesSnapshot} from './queues.js'

export interface PlatformSnapshot {
  at: string
  queues: QueuesSnapshot
  projections: ProjectionsSnapshot
  aggregates: (IngestStatus & {error?: undefined}) | {error: string}
}

export interface Collector {
  collect(): Promise<PlatformSnapshot>
  close(): Promise<void>
}

/**
 * The one source of the platform's numbers: `mm status --json` takes one snapshot, `mm dash`
 * keeps a collector open and takes one per refresh, so a panel and its JSON never disagree.
 * Clients connect lazily and reconnect on their own; a server that is down shows as an error in
 * its part of the snapshot, never as a thrown error.
 */
export const createCollector = (endpoints: Endpoints, logger: Logger, ns: Namespace = rootNamespace): Collector => {
  let pool: pg.Pool | undefined
  let redis: Redis | undefined
  let mongo: MongoClient | undefined
  const getPool = () => (pool ??= createPool(endpoints.postgres, logger, 2))
  const getRedis = () => {
    if (!redis) {
      redis = new Redis(endpoints.redis, {maxRetriesPerRequest: 1, connectTimeout: 2000, enableOfflineQueue: false, lazyConnect: false})
      redis.on('error', (error) => logger.debug('collector.redis_error', {error: error.message}))
    }
    return redis
  }
  // The driver connects on first use and reconnects by itself after a server comes back.
  const getMongo = async () => (mongo ??= new MongoClient(endpoints.mongo, {directConnection: true, serverSelectionTimeoutMS: 2000}))
  return {
    async collect() {
      const [rabbitmq, kafka, projections, aggregates] = await Promise.all([
        collectRabbitQueues(endpoints, ns),
        collectKafka(endpoints, ns),
        getMongo().then(
          (m) => collectProjections(m.db(ns('mercadomio')), getPool()),
          (error: unknown) => ({drift: [], error: errorMessage(error)}) as ProjectionsSnapshot,
        ),
        ingestStatus(getRedis(), ns, 5).catch((error: unknown) => ({error: errorMessage(error)})),
      ])
      return {at: new Date().toISOString(), queues: {rabbitmq, kafka}, projections, aggregates}
    },
    async close() {
      redis?.disconnect()
      await Promise.allSettled([pool?.end(), mongo?.close()])
    },
  }
}
