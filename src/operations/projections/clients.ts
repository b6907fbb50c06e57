import type {Admin} from 'kafkajs'

import {Kafka, logLevel} from '../../../services/shared/kafkajs.js'
import {type Db, MongoClient} from 'mongodb'
import type pg from 'pg'

import type {SwapStrategy} from '../../../services/query/rebuild.js'
import {createPool} from '../../../services/shared/db.js'
import type {Config} from '../../config/index.js'
import {requireEndpoints as requirePlatform} from '../../infra/platform.js'
import {type Namespace, rootNamespace, TOPOLOGY} from '../../infra/topology/spec.js'
import type {Endpoints} from '../../infra/types.js'
import {unreachable} from '../../lib/errors.js'
import type {Logger} from '../../lib/logger.js'

/** What the projections operations need from the outside: the servers, and the namespace (tests use their own). */
export interface ProjectionsDeps {
  endpoints: Endpoints
  logger: Logger
  ns?: Namespace
}

/** Open connections for one command: PostgreSQL, the read model's database, and a Kafka admin on first use. */
export interface Clients {
  pool: pg.Pool
  mongo: MongoClient
  db: Db
  ns: Namespace
  admin(): Promise<Admin>
  close(): Promise<void>
}

export const openClients = async (deps: ProjectionsDeps): Promise<Clients> => {
  const ns = deps.ns ?? rootNamespace
  const logger = deps.logger.child('projections')
  const pool = createPool(deps.endpoints.postgres, logger, 4)
  const mongo = new MongoClient(deps.endpoints.mongo, {directConnection: true, serverSelectionTimeoutMS: 5000})
  let admin: Promise<Admin> | undefined
  const close = async () => {
    await Promise.allSettled([pool.end(), mongo.close(), admin?.then((a) => a.disconnect())])
  }
  try {
    await pool.query('SELECT 1').catch((error: unknown) => Promise.reject(unreachable('PostgreSQL', error)))
    await mongo.connect().catch((error: unknown) => Promise.reject(unreachable('MongoDB', error)))
  } catch (error) {
    await close()
    throw error
  }
  return {
    pool,
    mongo,
    db: mongo.db(ns(TOPOLOGY.mongoDatabase)),
    ns,
    admin: () =>
      (admin ??= (async () => {
        const a = new Kafka({
          clientId: 'mm-projections',
          brokers: deps.endpoints.kafka,
          connectionTimeout: 3000,
          retry: {retries: 4, initialRetryTime: 200},
          logLevel: logLevel.WARN,
          logCreator:
            () =>
            ({log}) => {
              const {message, timestamp: _t, logger: _l, ...rest} = log
              logger.debug('kafka.log', {message, ...rest})
            },
        }).admin()
        await a.connect().catch((error: unknown) => Promise.reject(unreachable('Kafka', error)))
        return a
      })()),
    close,
  }
}

/** The servers of the running platform (or of MM_* URLs); a clear error when there is none. */
export const requireEndpoints = (config: Config, logger: Logger): Promise<Endpoints> => requirePlatform(config, logger, 'no read model to check')

/**
 * How the rebuilt views are swapped in: renameCollection where it is atomic (MongoDB 5 and
 * later, the compose runtime's mongo 7), a guarded copy elsewhere (mongo-java-server renames by
 * dropping, then moving: see the README).
 */
export const swapStrategyFor = async (db: Db): Promise<SwapStrategy> => {
  const info = await db
    .admin()
    .command({buildInfo: 1})
    .catch(() => ({}) as Record<string, unknown>)
  const major = Array.isArray(info.versionArray) ? Number(info.versionArray[0]) : 0
  const genuine = typeof info.gitVersion === 'string' && !Object.keys(info).some((k) => /ferret/i.test(k))
  return genuine && major >= 5 ? 'rename' : 'copy'
}
