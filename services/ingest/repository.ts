import {Readable} from 'node:stream'
import {pipeline} from 'node:stream/promises'

import type pg from 'pg'
import {from as copyFrom} from 'pg-copy-streams'

import {normalizeDecimal} from './decimal.js'

/** A persisted total as the API returns it: the amount as an exact decimal string. */
export interface PulseRow {
  id: number
  tenant: string
  product_sku: string
  use_unity: string
  used_amount: string
  updated_at: string
}

/** Records a flush id in the caller's transaction; false when it was applied before (or is being applied: waits for that). */
export const claimFlush = async (client: pg.PoolClient, flushId: string): Promise<boolean> => {
  const {rowCount} = await client.query('INSERT INTO ingest.flushes (flush_id) VALUES ($1) ON CONFLICT (flush_id) DO NOTHING', [flushId])
  return rowCount === 1
}

export const finishFlush = async (client: pg.PoolClient, flushId: string, keys: number, rows: number): Promise<void> => {
  await client.query('UPDATE ingest.flushes SET keys = $2, rows_written = $3 WHERE flush_id = $1', [flushId, keys, rows])
}

/** A staging table private to the caller's transaction (dropped at its end) for addChunk. */
export const createStaging = async (client: pg.PoolClient): Promise<void> => {
  await client.query('CREATE TEMP TABLE ingest_flush_rows (tenant text, product_sku text, use_unity text, used_amount numeric(38, 12)) ON COMMIT DROP')
}

const UPSERT_STAGED = `INSERT INTO ingest.pulses AS p (tenant, product_sku, use_unity, used_amount)
  SELECT tenant, product_sku, use_unity, used_amount FROM ingest_flush_rows
  ON CONFLICT (tenant, product_sku, use_unity)
  DO UPDATE SET used_amount = p.used_amount + EXCLUDED.used_amount, updated_at = now();
TRUNCATE ingest_flush_rows`

const copyText = async (client: pg.PoolClient, sql: string, text: string): Promise<number> => {
  const stream = client.query(copyFrom(sql))
  await pipeline(Readable.from([text]), stream)
  return stream.rowCount
}

/**
 * Adds one chunk of totals (COPY text: tenant, product_sku, use_unity, amount; each key at most
 * once) to ingest.pulses: COPY into the staging table, then, in one round trip, one INSERT … ON
 * CONFLICT DO UPDATE adding each total to its stored row (inserting the new ones), and empty the
 * staging table. Returns the rows written.
 */
export const addChunk = async (client: pg.PoolClient, text: string): Promise<number> => {
  await copyText(client, 'COPY ingest_flush_rows (tenant, product_sku, use_unity, used_amount) FROM STDIN', text)
  const results = (await client.query(UPSERT_STAGED)) as unknown as pg.QueryResult[]
  return results[0]?.rowCount ?? 0
}

/**
 * Writes chunks whose keys have no row yet: COPY straight into ingest.pulses (as fast as a raw
 * COPY), each under a savepoint. `insert` returns undefined, with nothing of the chunk written,
 * when a key has a row: found by looking up the chunk's first key (so a flush of existing keys
 * costs one index lookup and logs nothing), or by the COPY failing on the unique key (the
 * savepoint is rolled back). Add such a chunk with addChunk. Two round trips per chunk: the
 * lookup goes with the savepoint, and the previous chunk's RELEASE with both.
 */
export const newRowsWriter = (client: pg.PoolClient) => {
  let open = false
  const release = async () => {
    if (open) await client.query('RELEASE SAVEPOINT ingest_new_rows')
    open = false
  }
  return {
    async insert(text: string, first: [string, string, string]): Promise<number | undefined> {
      const [t, s, u] = first.map((v) => client.escapeLiteral(v))
      const probe = `SELECT 1 FROM ingest.pulses WHERE tenant = ${t} AND product_sku = ${s} AND use_unity = ${u}; SAVEPOINT ingest_new_rows`
      const results = (await client.query(`${open ? 'RELEASE SAVEPOINT ingest_new_rows; ' : ''}${probe}`)) as unknown as pg.QueryResult[]
      open = true
      if (results.at(-2)?.rowCount) {
        await release()
        return undefined
      }
      try {
        return await copyText(client, 'COPY ingest.pulses (tenant, product_sku, use_unity, used_amount) FROM STDIN', text)
      } catch (error) {
        if ((error as {code?: string}).code !== '23505') throw error
        await client.query('ROLLBACK TO SAVEPOINT ingest_new_rows')
        await release()
        return undefined
      }
    },
    /** Ends the last chunk's savepoint (keeping what it wrote). */
    release,
  }
}

interface DbRow {
  id: string
  tenant: string
  product_sku: string
  use_unity: string
  used_amount: string
  updated_at: Date
}

const toApi = (r: DbRow): PulseRow => ({
  id: Number(r.id),
  tenant: r.tenant,
  product_sku: r.product_sku,
  use_unity: r.use_unity,
  used_amount: normalizeDecimal(r.used_amount),
  updated_at: r.updated_at.toISOString(),
})

const COLUMNS = 'id, tenant, product_sku, use_unity, used_amount::text AS used_amount, updated_at'

export const listPulses = async (pool: pg.Pool, page: number, limit: number): Promise<{items: PulseRow[]; total: number}> => {
  const [rows, count] = await Promise.all([
    pool.query<DbRow>(`SELECT ${COLUMNS} FROM ingest.pulses ORDER BY id LIMIT $1 OFFSET $2`, [limit, (page - 1) * limit]),
    pool.query<{total: number}>('SELECT count(*)::int AS total FROM ingest.pulses'),
  ])
  return {items: rows.rows.map(toApi), total: count.rows[0]?.total ?? 0}
}

export const getPulse = async (pool: pg.Pool, id: string): Promise<PulseRow | undefined> => {
  const {rows} = await pool.query<DbRow>(`SELECT ${COLUMNS} FROM ingest.pulses WHERE id = $1`, [id])
  return rows[0] && toApi(rows[0])
}
