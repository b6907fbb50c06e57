import pg from 'pg'

import type {Logger} from '../../src/lib/logger.js'

// numeric and bigint come back as strings (exact); counts are cast to int in SQL where needed.
export type Pool = pg.Pool
export type PoolClient = pg.PoolClient

export const createPool = (url: string, logger: Logger, max = 10): pg.Pool => {
  const pool = new pg.Pool({connectionString: url, max, idleTimeoutMillis: 30_000})
  pool.on('error', (error) => logger.warn('postgres.pool_error', {error: error.message}))
  return pool
}

/** Runs `fn` in one transaction: commit on success, rollback on any error. */
export const withTransaction = async <T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> => {
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    const result = await fn(client)
    await client.query('COMMIT')
    return result
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {})
    throw error
  } finally {
    client.release()
  }
}

/** Records that `consumer` handled `eventId`, in the caller's transaction; false when it already had. */
export const markProcessed = async (client: pg.PoolClient, schema: string, consumer: string, eventId: string): Promise<boolean> => {
  const {rowCount} = await client.query(`INSERT INTO "${schema}".processed_events (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [consumer, eventId])
  return rowCount === 1
}
