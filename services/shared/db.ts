import {context} from '@opentelemetry/api'
import pg from 'pg'

import type {Logger} from './logger.js'

// numeric and bigint come back as strings (exact); counts are cast to int in SQL where needed.
export type Pool = pg.Pool
export type PoolClient = pg.PoolClient

export const createPool = (url: string, logger: Logger, max = 10): pg.Pool => {
  const pool = new pg.Pool({connectionString: url, max, idleTimeoutMillis: 30_000})
  pool.on('error', (error) => logger.warn('postgres.pool_error', {error: error.message}))
  // pool.query waits for a free client with a callback, and pg-pool runs that callback in the
  // context of whoever released the client: the query was then traced as part of the releasing
  // transaction's trace (mm trace showed another order's INSERT inside a hop, a second after it
  // ended). The callback runs in its caller's context instead (no cost when tracing is off).
  const connect = pool.connect.bind(pool) as (cb?: (...args: unknown[]) => void) => Promise<pg.PoolClient> | void
  pool.connect = ((cb?: (...args: unknown[]) => void) => (cb ? connect(context.bind(context.active(), cb)) : connect())) as typeof pool.connect
  return pool
}

/** Runs `fn` in one transaction: commit on success, rollback on any error. */
export const withTransaction = async <T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> => {
  const client = await pool.connect()
  // A checked-out client has no listener of its own (pg-pool listens only to idle ones): when the
  // server dies mid-transaction its 'error' event would crash the process. The query in flight
  // fails anyway; the client is then destroyed instead of going back to the pool.
  let broken: Error | undefined
  const onError = (error: Error) => (broken = error)
  client.on('error', onError)
  try {
    await client.query('BEGIN')
    const result = await fn(client)
    await client.query('COMMIT')
    return result
  } catch (error) {
    if (!broken) await client.query('ROLLBACK').catch(() => {})
    throw error
  } finally {
    client.removeListener('error', onError)
    client.release(broken)
  }
}

/**
 * Records a batch of handled event ids in the caller's transaction, in one round trip; returns the
 * ids that were new (a repeat within the batch, or an id already recorded, is not).
 */
export const markProcessedMany = async (client: pg.PoolClient, schema: string, consumer: string, eventIds: string[]): Promise<Set<string>> => {
  const unique = [...new Set(eventIds)]
  if (unique.length === 0) return new Set()
  const {rows} = await client.query<{event_id: string}>(
    `INSERT INTO "${schema}".processed_events (consumer, event_id) SELECT $1, e FROM unnest($2::text[]) AS e ON CONFLICT DO NOTHING RETURNING event_id`,
    [consumer, unique],
  )
  return new Set(rows.map((r) => r.event_id))
}

/**
 * Serialises transactions about the same keys (e.g. two events of one order read from two topics
 * at once) until the caller's transaction ends. Taken in sorted order, so two batches never wait
 * on each other in a cycle.
 */
export const lockKeys = async (client: pg.PoolClient, scope: string, keys: string[]): Promise<void> => {
  const sorted = [...new Set(keys)].sort()
  if (sorted.length === 0) return
  await client.query(`SELECT count(pg_advisory_xact_lock(hashtext($1 || k))) FROM (SELECT unnest($2::text[]) AS k ORDER BY 1) AS s`, [scope, sorted])
}
