import type pg from 'pg'

import {SCHEMA} from './domain.js'

export interface ReservedItem {
  product_id: string
  quantity: number
}

const RESERVATIONS = `"${SCHEMA}".reservations`
const CANCELED = `"${SCHEMA}".canceled_orders`

/** The orders among `orderIds` that already hold a reservation (released or not). */
export const reservedAmong = async (client: pg.PoolClient, orderIds: string[]): Promise<Set<string>> => {
  const {rows} = await client.query<{order_id: string}>(`SELECT DISTINCT order_id FROM ${RESERVATIONS} WHERE order_id = ANY($1::text[])`, [orderIds])
  return new Set(rows.map((r) => r.order_id))
}

/** The orders among `orderIds` whose cancellation was seen. */
export const canceledAmong = async (client: pg.PoolClient, orderIds: string[]): Promise<Set<string>> => {
  const {rows} = await client.query<{order_id: string}>(`SELECT order_id FROM ${CANCELED} WHERE order_id = ANY($1::text[])`, [orderIds])
  return new Set(rows.map((r) => r.order_id))
}

export const insertReservations = async (client: pg.PoolClient, rows: {order_id: string; product_id: string; quantity: number}[]): Promise<void> => {
  if (rows.length === 0) return
  await client.query(`INSERT INTO ${RESERVATIONS} (order_id, product_id, quantity) SELECT * FROM unnest($1::text[], $2::uuid[], $3::int[])`, [
    rows.map((r) => r.order_id),
    rows.map((r) => r.product_id),
    rows.map((r) => r.quantity),
  ])
}

/**
 * Records the cancellations and marks the orders' open reservations released, in one statement;
 * returns what each order held (orders that held nothing are absent).
 */
export const releaseReservations = async (client: pg.PoolClient, orderIds: string[]): Promise<Map<string, ReservedItem[]>> => {
  const {rows} = await client.query<{order_id: string; product_id: string; quantity: number}>(
    `WITH canceled AS (INSERT INTO ${CANCELED} (order_id) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING)
     UPDATE ${RESERVATIONS} SET released_at = now() WHERE order_id = ANY($1::text[]) AND released_at IS NULL RETURNING order_id, product_id, quantity`,
    [orderIds],
  )
  const held = new Map<string, ReservedItem[]>()
  for (const r of rows) held.set(r.order_id, [...(held.get(r.order_id) ?? []), {product_id: r.product_id, quantity: r.quantity}])
  return held
}
