import {Redis} from 'ioredis'

import type {Config} from '../config/index.js'
import {resolveEndpoints} from '../infra/platform.js'
import {errorMessage, UserError} from '../lib/errors.js'
import {createApi} from '../lib/http.js'
import type {Logger} from '../lib/logger.js'
import {runningGateway} from './api.js'
import {createPool} from '../../services/shared/db.js'
import {flushNow, type FlushResult} from '../../services/ingest/index.js'

/** A flush's result, and who ran it: the ingest runner, or this process. */
export type CliFlushResult = FlushResult & {by: 'runner' | 'cli'}

/** A flush of millions of keys takes minutes; past this the runner is presumed stuck and the CLI flushes itself. */
const RUNNER_FLUSH_TIMEOUT_MS = 10 * 60_000

/**
 * `mm flush` (and the dashboard's `f`): one ingest flush now. The running ingest runner does it
 * when there is one (`POST /ingest/flush` on the gateway): its process is warm and its pools are
 * open, which makes a flush about a third faster than a new process doing the same work
 * (BENCHMARKS.md). Without one (`mm up --exclude ingest`, the gateway down, a route that does
 * not answer 200) the CLI flushes straight against Redis and PostgreSQL. Both are safe: the flush
 * algorithm (services/ingest/FLUSH.md) is exactly-once alongside the scheduled flush, a concurrent
 * one and a crash at any point, so a request the runner answered with an error, or never
 * answered, is simply flushed again from here.
 */
export const flush = async (config: Config, logger: Logger): Promise<CliFlushResult> => {
  const endpoints = await resolveEndpoints(config, logger)
  if (!endpoints) throw new UserError('the platform is not running', 'start it with mm up -d')
  const byRunner = await flushByRunner(config, logger)
  return byRunner ? {...byRunner, by: 'runner'} : {...(await flushHere(endpoints, logger)), by: 'cli'}
}

/** The gateway's answer to POST /ingest/flush, or undefined when no runner flushed. */
const flushByRunner = async (config: Config, logger: Logger): Promise<FlushResult | undefined> => {
  const gateway = runningGateway(config)
  if (!gateway) return undefined
  try {
    const res = await createApi(gateway).request<FlushResult>('POST', '/ingest/flush', undefined, {}, {timeoutMs: RUNNER_FLUSH_TIMEOUT_MS})
    if (res.status === 200 && isFlushResult(res.body)) return res.body
    logger.debug('flush.runner_declined', {status: res.status})
  } catch (error) {
    logger.debug('flush.runner_unreachable', {error: errorMessage(error)})
  }
  return undefined
}

const isFlushResult = (body: unknown): body is FlushResult =>
  typeof body === 'object' &&
  body !== null &&
  typeof (body as FlushResult).keys === 'number' &&
  typeof (body as FlushResult).rows === 'number' &&
  Array.isArray((body as FlushResult).resumed)

const flushHere = async (endpoints: {postgres: string; redis: string}, logger: Logger): Promise<FlushResult> => {
  const pool = createPool(endpoints.postgres, logger, 2)
  const redis = new Redis(endpoints.redis, {maxRetriesPerRequest: 2})
  redis.on('error', (error) => logger.warn('redis.error', {error: error.message}))
  try {
    return await flushNow({pool, redis, ns: (n) => n, logger})
  } finally {
    redis.disconnect()
    await pool.end()
  }
}
