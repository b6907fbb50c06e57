import type pg from 'pg'

import type {OrderItem, OrderStatus} from '../shared/events.js'
import {outboxChannel, outboxInsert, type OutboxMessage, outboxParams} from '../shared/outbox.js'
import {type Order, type OrderRow, SCHEMA, toOrder} from './domain.js'

// The stored order's shape and mapping live in domain.ts (read-model-source.ts shares them); still exported from here.
export {orderData, SCHEMA, type Order} from './domain.js'

type Queryable = pg.Pool | pg.PoolClient

interface ItemRow {
  order_id: string
  product_id: string
  quantity: number
  unit_price_cents: string
}

const COLUMNS = 'id, customer_id, status, total_cents, version, created_at, updated_at, paid_at, canceled_at, cancel_reason'

const itemsOf = async (db: Queryable, ids: string[]): Promise<Map<string, OrderItem[]>> => {
  const byOrder = new Map<string, OrderItem[]>(ids.map((id) => [id, []]))
  if (ids.length === 0) return byOrder
  const {rows} = await db.query<ItemRow>(
    `SELECT order_id, product_id, quantity, unit_price_cents FROM "order".order_items WHERE order_id = ANY($1::uuid[]) ORDER BY order_id, line`,
    [ids],
  )
  for (const r of rows) byOrder.get(r.order_id)?.push({product_id: r.product_id, quantity: r.quantity, unit_price_cents: Number(r.unit_price_cents)})
  return byOrder
}

const withItems = async (db: Queryable, rows: OrderRow[]): Promise<Order[]> => {
  const items = await itemsOf(
    db,
    rows.map((r) => r.id),
  )
  return rows.map((r) => toOrder(r, items.get(r.id) ?? []))
}

/** One order with its lines, in one query. */
export const findOrder = async (db: Queryable, id: string): Promise<Order | undefined> => {
  const {rows} = await db.query<OrderRow & {items: {product_id: string; quantity: number; unit_price_cents: number}[]}>(
    `SELECT ${COLUMNS.split(', ')
      .map((c) => `o.${c}`)
      .join(', ')},
       COALESCE((SELECT json_agg(json_build_object('product_id', i.product_id, 'quantity', i.quantity, 'unit_price_cents', i.unit_price_cents) ORDER BY i.line)
                 FROM "order".order_items i WHERE i.order_id = o.id), '[]') AS items
     FROM "order".orders o WHERE o.id = $1`,
    [id],
  )
  const row = rows[0]
  return (
    row &&
    toOrder(
      row,
      row.items.map((i) => ({product_id: i.product_id, quantity: i.quantity, unit_price_cents: Number(i.unit_price_cents)})),
    )
  )
}

/** A new PENDING order as it will be stored (the timestamps are taken here, so its events can be written with it). */
export const newOrder = (o: {id: string; customer_id: string; total_cents: number; items: OrderItem[]}): Order => {
  const now = new Date().toISOString()
  return {...o, status: 'PENDING', created_at: now, updated_at: now, paid_at: null, canceled_at: null, cancel_reason: null, version: 1}
}

/**
 * Writes a new order, its lines and its outbox messages in ONE statement: one round trip, and
 * atomic as a transaction would be (a statement is all or nothing), with the relay's wake-up.
 */
export const insertOrderWithEvents = async (db: Queryable, order: Order, messages: OutboxMessage[]): Promise<void> => {
  await db.query(
    `WITH o AS (INSERT INTO "order".orders (id, customer_id, status, total_cents, version, created_at, updated_at) VALUES ($1, $2, 'PENDING', $3, 1, $4, $4)),
          i AS (INSERT INTO "order".order_items (order_id, line, product_id, quantity, unit_price_cents)
                SELECT $1, line, product_id, quantity, price FROM unnest($5::int[], $6::text[], $7::int[], $8::bigint[]) AS t(line, product_id, quantity, price)),
          m AS (${outboxInsert(SCHEMA, 9)})
     SELECT pg_notify($14, '')`,
    [
      order.id,
      order.customer_id,
      order.total_cents,
      order.created_at,
      order.items.map((_, i) => i + 1),
      order.items.map((i) => i.product_id),
      order.items.map((i) => i.quantity),
      order.items.map((i) => i.unit_price_cents),
      ...outboxParams(messages),
      outboxChannel(SCHEMA),
    ],
  )
}

/**
 * Moves an order to `next` (its status, version and timestamps already computed) only if it is
 * still at `expectedVersion`, and writes its outbox messages, in ONE statement. False when the
 * order changed meanwhile (nothing is written then).
 */
export const updateOrderWithEvents = async (db: Queryable, next: Order, expectedVersion: number, messages: OutboxMessage[]): Promise<boolean> => {
  const {rows} = await db.query<{updated: number}>(
    `WITH u AS (UPDATE "order".orders SET status = $3, version = $4, updated_at = $5, paid_at = $6, canceled_at = $7, cancel_reason = $8
                WHERE id = $1 AND version = $2 RETURNING 1),
          m AS (${outboxInsert(SCHEMA, 9)} WHERE EXISTS (SELECT 1 FROM u))
     SELECT (SELECT count(*) FROM u)::int AS updated, pg_notify($14, '')`,
    [
      next.id,
      expectedVersion,
      next.status,
      next.version,
      next.updated_at,
      next.paid_at,
      next.canceled_at,
      next.cancel_reason,
      ...outboxParams(messages),
      outboxChannel(SCHEMA),
    ],
  )
  return rows[0]?.updated === 1
}

export const listOrders = async (db: Queryable, filter: {customerId?: string; status?: OrderStatus; limit: number}): Promise<Order[]> => {
  const {rows} = await db.query<OrderRow>(
    `SELECT ${COLUMNS} FROM "order".orders
     WHERE ($1::text IS NULL OR customer_id = $1) AND ($2::text IS NULL OR status = $2)
     ORDER BY created_at DESC, id DESC LIMIT $3`,
    [filter.customerId ?? null, filter.status ?? null, filter.limit],
  )
  return withItems(db, rows)
}

export const insertOrder = async (client: pg.PoolClient, order: {id: string; customer_id: string; total_cents: number; items: OrderItem[]}): Promise<Order> => {
  const {rows} = await client.query<OrderRow>(
    `INSERT INTO "order".orders (id, customer_id, status, total_cents) VALUES ($1, $2, 'PENDING', $3) RETURNING ${COLUMNS}`,
    [order.id, order.customer_id, order.total_cents],
  )
  await client.query(
    `INSERT INTO "order".order_items (order_id, line, product_id, quantity, unit_price_cents)
     SELECT $1, line, product_id, quantity, price FROM unnest($2::int[], $3::text[], $4::int[], $5::bigint[]) AS t(line, product_id, quantity, price)`,
    [
      order.id,
      order.items.map((_, i) => i + 1),
      order.items.map((i) => i.product_id),
      order.items.map((i) => i.quantity),
      order.items.map((i) => i.unit_price_cents),
    ],
  )
  return toOrder(rows[0]!, order.items)
}

/** Claims an Idempotency-Key for an order; false when another transaction already holds it (waits for it to end). */
export const claimIdempotencyKey = async (client: pg.PoolClient, key: string, hash: string, orderId: string): Promise<boolean> => {
  const {rowCount} = await client.query(`INSERT INTO "order".idempotency_keys (key, request_hash, order_id) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING`, [
    key,
    hash,
    orderId,
  ])
  return rowCount === 1
}

export const findIdempotencyKey = async (db: Queryable, key: string): Promise<{request_hash: string; order_id: string} | undefined> => {
  const {rows} = await db.query<{request_hash: string; order_id: string}>(`SELECT request_hash, order_id FROM "order".idempotency_keys WHERE key = $1`, [key])
  return rows[0]
}

/** Locks orders (in id order) until the transaction ends; their status and version by id. */
export const lockOrders = async (client: pg.PoolClient, ids: string[]): Promise<Map<string, {status: OrderStatus; version: number}>> => {
  const {rows} = await client.query<{id: string; status: OrderStatus; version: number}>(
    `SELECT id, status, version FROM "order".orders WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`,
    [ids],
  )
  return new Map(rows.map((r) => [r.id, {status: r.status, version: r.version}]))
}

/** Applies transitions to locked orders in one statement (one per order); a version that moved meanwhile fails loudly instead of overwriting. */
export const updateStatuses = async (
  client: pg.PoolClient,
  changes: {id: string; expectedVersion: number; to: OrderStatus; reason: string | null}[],
): Promise<Order[]> => {
  if (changes.length === 0) return []
  const {rows} = await client.query<OrderRow>(
    `UPDATE "order".orders o SET status = c.status, version = o.version + 1, updated_at = now(),
       paid_at = CASE WHEN c.status = 'PAID' THEN now() ELSE o.paid_at END,
       canceled_at = CASE WHEN c.status = 'CANCELED' THEN now() ELSE o.canceled_at END,
       cancel_reason = CASE WHEN c.status = 'CANCELED' THEN c.reason ELSE o.cancel_reason END
     FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[]) AS c(id, version, status, reason)
     WHERE o.id = c.id AND o.version = c.version RETURNING ${COLUMNS.split(', ')
       .map((c) => `o.${c}`)
       .join(', ')}`,
    [changes.map((c) => c.id), changes.map((c) => c.expectedVersion), changes.map((c) => c.to), changes.map((c) => c.reason)],
  )
  if (rows.length !== changes.length) throw new Error(`${changes.length - rows.length} order(s) changed concurrently`)
  return withItems(client, rows)
}

/** For operators (mm status, mm dash): orders by status and the newest change, read from the write model. */
export const orderStatusStats = async (db: Queryable): Promise<{byStatus: Record<string, number>; newestChange?: Date}> => {
  const {rows} = await db.query<{status: string; n: number; newest: Date | null}>(
    `SELECT status, count(*)::int AS n, max(updated_at) AS newest FROM "${SCHEMA}".orders GROUP BY status`,
  )
  const newest = rows.reduce<Date | undefined>((m, r) => (r.newest && (!m || r.newest > m) ? r.newest : m), undefined)
  return {byStatus: Object.fromEntries(rows.map((r) => [r.status, r.n])), newestChange: newest}
}
