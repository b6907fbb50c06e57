import type pg from 'pg'

import {conflict} from '../shared/errors.js'
import {type NewProduct, type ProductChanges, type ProductRow, SCHEMA} from './domain.js'

export const COLUMNS = 'id, sku, name, price_cents, stock, version, created_at, updated_at'
export const PRODUCTS = `"${SCHEMA}".products`

type Db = pg.Pool | pg.PoolClient

export const insertProduct = async (db: Db, p: NewProduct): Promise<ProductRow> => {
  try {
    const {rows} = await db.query<ProductRow>(`INSERT INTO ${PRODUCTS} (sku, name, price_cents, stock) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`, [
      p.sku,
      p.name,
      p.price_cents,
      p.stock,
    ])
    return rows[0]!
  } catch (error) {
    if ((error as {code?: string}).code === '23505') throw conflict(`a product with sku ${p.sku} already exists`, {field: 'sku'})
    throw error
  }
}

export const findProduct = async (db: Db, id: string, forUpdate = false): Promise<ProductRow | undefined> => {
  const {rows} = await db.query<ProductRow>(`SELECT ${COLUMNS} FROM ${PRODUCTS} WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [id])
  return rows[0]
}

export const findProducts = async (db: Db, ids: string[]): Promise<ProductRow[]> =>
  ids.length === 0 ? [] : (await db.query<ProductRow>(`SELECT ${COLUMNS} FROM ${PRODUCTS} WHERE id = ANY($1::uuid[])`, [ids])).rows

export const listProducts = async (db: Db, limit: number, offset: number): Promise<{rows: ProductRow[]; total: number}> => {
  const [page, count] = await Promise.all([
    db.query<ProductRow>(`SELECT ${COLUMNS} FROM ${PRODUCTS} ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2`, [limit, offset]),
    db.query<{total: number}>(`SELECT count(*)::int AS total FROM ${PRODUCTS}`),
  ])
  return {rows: page.rows, total: count.rows[0]?.total ?? 0}
}

export const updateProduct = async (db: Db, id: string, c: ProductChanges): Promise<ProductRow | undefined> => {
  const {rows} = await db.query<ProductRow>(
    `UPDATE ${PRODUCTS} SET
       name = CASE WHEN $2 THEN $3 ELSE name END,
       price_cents = CASE WHEN $4 THEN $5::int ELSE price_cents END,
       stock = CASE WHEN $6 THEN $7::int ELSE stock END,
       version = version + 1,
       updated_at = now()
     WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, c.name !== undefined, c.name ?? null, c.price_cents !== undefined, c.price_cents ?? null, c.stock !== undefined, c.stock ?? null],
  )
  return rows[0]
}

/** Locks the given products in id order (a stable order, so concurrent reservations never deadlock). */
export const lockProducts = async (client: pg.PoolClient, ids: string[]): Promise<Map<string, ProductRow>> => {
  const {rows} = await client.query<ProductRow>(`SELECT ${COLUMNS} FROM ${PRODUCTS} WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`, [ids])
  return new Map(rows.map((r) => [r.id, r]))
}

/** Adds `delta` (negative to take) to each product's stock; the CHECK keeps it from going negative. */
export const adjustStock = async (client: pg.PoolClient, deltas: {product_id: string; delta: number}[]): Promise<ProductRow[]> => {
  const {rows} = await client.query<ProductRow>(
    `UPDATE ${PRODUCTS} p SET stock = p.stock + d.delta, version = p.version + 1, updated_at = now()
     FROM unnest($1::uuid[], $2::int[]) AS d(id, delta) WHERE p.id = d.id
     RETURNING p.id, p.sku, p.name, p.price_cents, p.stock, p.version, p.created_at, p.updated_at`,
    [deltas.map((d) => d.product_id), deltas.map((d) => d.delta)],
  )
  return rows.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
}
