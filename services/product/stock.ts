import type pg from 'pg'

import type {Namespace} from '../shared/naming.js'
import {lockKeys} from '../shared/db.js'
import {appendOutbox, type OutboxMessage} from '../shared/outbox.js'
import {isUuid, MAX_INT, type ProductRow, SCHEMA} from './domain.js'
import {productEvent, stockEvent} from './events.js'
import {adjustStock, lockProducts} from './repository.js'
import {canceledAmong, insertReservations, releaseReservations, type ReservedItem, reservedAmong} from './reservations.js'

export type ReserveOutcome = 'reserved' | 'rejected' | 'already_reserved' | 'order_canceled'
export type ReleaseOutcome = 'released' | 'nothing_held'

/** An order as the product component needs it. */
export interface OrderRef {
  id: string
  version: number
  items: ReservedItem[]
}

/** One line per product, quantities of repeated products added up, in the order they first appear. */
export const mergeItems = (items: ReservedItem[]): ReservedItem[] => {
  const merged = new Map<string, number>()
  for (const i of items) merged.set(i.product_id, (merged.get(i.product_id) ?? 0) + i.quantity)
  return [...merged].map(([product_id, quantity]) => ({product_id, quantity}))
}

const byId = (a: {product_id: string}, b: {product_id: string}) => (a.product_id < b.product_id ? -1 : a.product_id > b.product_id ? 1 : 0)

/** The orders' lock scope: reservation and release of one order never run at the same time. */
const ORDER_LOCK = 'mm.product.order:'

/**
 * Reserves stock for a batch of orders, in the caller's transaction, in the order given: each
 * order all or nothing. The orders (advisory locks) and then their products (row locks) are locked
 * in id order, every order is checked against the stock left by the ones before it, and then the
 * stock is taken in one update, the reservations recorded in one insert, and the events written
 * in one outbox insert: `stock.reserved` or `stock.rejected` (naming the first line that cannot be
 * served) per order, and one `product.updated` per product whose stock changed, with its final
 * state, rather than one per reservation.
 */
export const reserveOrders = async (client: pg.PoolClient, ns: Namespace, orders: OrderRef[]): Promise<ReserveOutcome[]> => {
  if (orders.length === 0) return []
  const ids = orders.map((o) => o.id)
  await lockKeys(client, ORDER_LOCK, ids)
  const [reserved, canceled] = await Promise.all([reservedAmong(client, ids), canceledAmong(client, ids)])
  const merged = orders.map((o) => mergeItems(o.items))
  const wanted = [...new Set(merged.flatMap((items) => items.map((i) => i.product_id)).filter(isUuid))].sort()
  const products = wanted.length ? await lockProducts(client, wanted) : new Map<string, ProductRow>()
  const stock = new Map([...products].map(([id, p]) => [id, p.stock]))
  const taken = new Map<string, number>()
  const reservations: {order_id: string; product_id: string; quantity: number}[] = []
  const messages: OutboxMessage[] = []
  const handled = new Set<string>()
  const outcomes = orders.map((order, k): ReserveOutcome => {
    if (reserved.has(order.id) || handled.has(order.id)) return 'already_reserved'
    if (canceled.has(order.id)) return 'order_canceled'
    handled.add(order.id)
    const items = merged[k]!
    const refusal = items
      .map((i) => {
        if (!products.has(i.product_id)) return {product_id: i.product_id, reason: 'unknown_product'}
        if (i.quantity > MAX_INT || stock.get(i.product_id)! < i.quantity) return {product_id: i.product_id, reason: 'insufficient_stock'}
        return undefined
      })
      .find((r) => r !== undefined)
    if (refusal) {
      messages.push(stockEvent(ns, 'stock.rejected', order.version, {order_id: order.id, ...refusal}))
      return 'rejected'
    }
    for (const i of items) {
      stock.set(i.product_id, stock.get(i.product_id)! - i.quantity)
      taken.set(i.product_id, (taken.get(i.product_id) ?? 0) + i.quantity)
      reservations.push({order_id: order.id, ...i})
    }
    messages.push(stockEvent(ns, 'stock.reserved', order.version, {order_id: order.id, items}))
    return 'reserved'
  })
  if (taken.size > 0) {
    const updated = await adjustStock(client, [...taken].map(([product_id, quantity]) => ({product_id, delta: -quantity})).sort(byId))
    await insertReservations(client, reservations)
    messages.push(...updated.map((row) => productEvent(ns, 'product.updated', row)))
  }
  await appendOutbox(client, SCHEMA, messages)
  return outcomes
}

/**
 * Gives back what each order of a batch holds, once: only reservations not yet released return to
 * stock. Cancellations are remembered, so an order.created that arrives later reserves nothing.
 * One `stock.released` per order that held something, one `product.updated` per product.
 */
export const releaseOrders = async (client: pg.PoolClient, ns: Namespace, orders: {id: string; version: number}[]): Promise<ReleaseOutcome[]> => {
  if (orders.length === 0) return []
  const ids = orders.map((o) => o.id)
  await lockKeys(client, ORDER_LOCK, ids)
  const released = await releaseReservations(client, ids)
  const messages: OutboxMessage[] = []
  const given = new Map<string, number>()
  const outcomes = orders.map((order): ReleaseOutcome => {
    const items = released.get(order.id)
    if (!items?.length) return 'nothing_held'
    released.delete(order.id)
    for (const i of items) given.set(i.product_id, (given.get(i.product_id) ?? 0) + i.quantity)
    messages.push(stockEvent(ns, 'stock.released', order.version, {order_id: order.id, items: items.sort(byId)}))
    return 'released'
  })
  if (given.size > 0) {
    // Products in id order, as reservations lock them: the two never wait on each other in a cycle.
    const deltas = [...given].map(([product_id, quantity]) => ({product_id, delta: quantity})).sort(byId)
    await lockProducts(
      client,
      deltas.map((d) => d.product_id),
    )
    const updated = await adjustStock(client, deltas)
    messages.push(...updated.map((row) => productEvent(ns, 'product.updated', row)))
  }
  await appendOutbox(client, SCHEMA, messages)
  return outcomes
}
