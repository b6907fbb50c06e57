import {Redis} from 'ioredis'

import type {Config} from '../config/index.js'
import {resolveEndpoints} from '../infra/platform.js'
import {UserError} from '../lib/errors.js'
import type {Logger} from '../lib/logger.js'
import {createPool} from '../../services/shared/db.js'
import {flushNow, type FlushResult} from '../../services/ingest/index.js'

/**
 * `mm flush`: one ingest flush now, straight against Redis and PostgreSQL. The flush algorithm
 * (services/ingest/FLUSH.md) is safe alongside the scheduled one and against crashes, so this
 * needs no running ingest runner.
 */
export const flush = async (config: Config, logger: Logger): Promise<FlushResult> => {
  const endpoints = await resolveEndpoints(config, logger)
  if (!endpoints) throw new UserError('the platform is not running', 'start it with mm up -d')
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
