import type pg from 'pg'

import {SCHEMA} from './domain.js'

export interface ReservedItem {
  product_id: string
  quantity: number
}

const RESERVATIONS = `"${SCHEMA}".reservations`
const CANCELED = `"${SCHEMA}".canceled_orders`

export const hasReservation = async (client: pg.PoolClient, orderId: string): Promise<boolean> => {
  const {rowCount} = await client.query(`SELECT 1 FROM ${RESERVATIONS} WHERE order_id = $1 LIMIT 1`, [orderId])
  return (rowCount ?? 0) > 0
}

export const insertReservations = async (client: pg.PoolClient, orderId: string, items: ReservedItem[]): Promise<void> => {
  await client.query(`INSERT INTO ${RESERVATIONS} (order_id, product_id, quantity) SELECT $1, * FROM unnest($2::uuid[], $3::int[])`, [
    orderId,
    items.map((i) => i.product_id),
    items.map((i) => i.quantity),
  ])
}

/** The products an order still holds (reserved, not released), in id order. */
export const heldProductIds = async (client: pg.PoolClient, orderId: string): Promise<string[]> => {
  const {rows} = await client.query<{product_id: string}>(`SELECT product_id FROM ${RESERVATIONS} WHERE order_id = $1 AND released_at IS NULL ORDER BY product_id`, [orderId])
  return rows.map((r) => r.product_id)
}

/** Marks the order's open reservations released; returns what they held (empty when none). */
export const releaseReservations = async (client: pg.PoolClient, orderId: string): Promise<ReservedItem[]> => {
  const {rows} = await client.query<ReservedItem>(
    `UPDATE ${RESERVATIONS} SET released_at = now() WHERE order_id = $1 AND released_at IS NULL RETURNING product_id, quantity`,
    [orderId],
  )
  return rows.sort((a, b) => (a.product_id < b.product_id ? -1 : a.product_id > b.product_id ? 1 : 0))
}

export const recordCancellation = async (client: pg.PoolClient, orderId: string): Promise<void> => {
  await client.query(`INSERT INTO ${CANCELED} (order_id) VALUES ($1) ON CONFLICT DO NOTHING`, [orderId])
}

export const wasCanceled = async (client: pg.PoolClient, orderId: string): Promise<boolean> => {
  const {rowCount} = await client.query(`SELECT 1 FROM ${CANCELED} WHERE order_id = $1`, [orderId])
  return (rowCount ?? 0) > 0
}
