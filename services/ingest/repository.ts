import type pg from 'pg'

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

export interface TotalDelta {
  tenant: string
  product_sku: string
  use_unity: string
  /** Exact decimal text, e.g. "0.3". */
  amount: string
}

const BATCH = 5000

/** Records a flush id in the caller's transaction; false when it was applied before (or is being applied: waits for that). */
export const claimFlush = async (client: pg.PoolClient, flushId: string): Promise<boolean> => {
  const {rowCount} = await client.query('INSERT INTO ingest.flushes (flush_id) VALUES ($1) ON CONFLICT (flush_id) DO NOTHING', [flushId])
  return rowCount === 1
}

export const finishFlush = async (client: pg.PoolClient, flushId: string, keys: number, rows: number): Promise<void> => {
  await client.query('UPDATE ingest.flushes SET keys = $2, rows_written = $3 WHERE flush_id = $1', [flushId, keys, rows])
}

/**
 * Adds each delta to its stored total (inserting the row when new), in the given order so two
 * transactions touching the same rows lock them in the same order. Returns the rows written.
 */
export const addTotals = async (client: pg.PoolClient, deltas: TotalDelta[]): Promise<number> => {
  let rows = 0
  for (let i = 0; i < deltas.length; i += BATCH) {
    const batch = deltas.slice(i, i + BATCH)
    const {rowCount} = await client.query(
      `INSERT INTO ingest.pulses AS p (tenant, product_sku, use_unity, used_amount)
       SELECT t, s, u, a FROM unnest($1::text[], $2::text[], $3::text[], $4::numeric[]) WITH ORDINALITY AS x(t, s, u, a, n) ORDER BY n
       ON CONFLICT (tenant, product_sku, use_unity)
       DO UPDATE SET used_amount = p.used_amount + EXCLUDED.used_amount, updated_at = now()`,
      [batch.map((d) => d.tenant), batch.map((d) => d.product_sku), batch.map((d) => d.use_unity), batch.map((d) => d.amount)],
    )
    rows += rowCount ?? 0
  }
  return rows
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
