import type pg from 'pg'

import type {Namespace} from '../../src/infra/topology/spec.js'
import {appendOutbox, type OutboxMessage} from '../shared/outbox.js'
import {isUuid, MAX_INT, SCHEMA} from './domain.js'
import {productEvent, stockEvent} from './events.js'
import {adjustStock, lockProducts} from './repository.js'
import {hasReservation, heldProductIds, insertReservations, recordCancellation, releaseReservations, type ReservedItem, wasCanceled} from './reservations.js'

export type ReserveOutcome = 'reserved' | 'rejected' | 'already_reserved' | 'order_canceled'
export type ReleaseOutcome = 'released' | 'nothing_held'

/** One line per product, quantities of repeated products added up, in the order they first appear. */
export const mergeItems = (items: ReservedItem[]): ReservedItem[] => {
  const merged = new Map<string, number>()
  for (const i of items) merged.set(i.product_id, (merged.get(i.product_id) ?? 0) + i.quantity)
  return [...merged].map(([product_id, quantity]) => ({product_id, quantity}))
}

/**
 * Reserves stock for every item of the order, all or nothing, in the caller's transaction: locks the
 * products in id order, checks every line, then takes the stock and records the reservation, or
 * changes nothing and emits `stock.rejected` naming the first line that cannot be served.
 */
export const reserveStock = async (client: pg.PoolClient, ns: Namespace, order: {id: string; version: number; items: ReservedItem[]}): Promise<ReserveOutcome> => {
  if (await hasReservation(client, order.id)) return 'already_reserved'
  if (await wasCanceled(client, order.id)) return 'order_canceled'
  const items = mergeItems(order.items)
  const products = await lockProducts(client, items.map((i) => i.product_id).filter(isUuid))
  const refusal = items
    .map((i) => {
      const p = products.get(i.product_id)
      if (!p) return {product_id: i.product_id, reason: 'unknown_product'}
      if (i.quantity > MAX_INT || p.stock < i.quantity) return {product_id: i.product_id, reason: 'insufficient_stock'}
      return undefined
    })
    .find((r) => r !== undefined)
  if (refusal) {
    await appendOutbox(client, SCHEMA, [stockEvent(ns, 'stock.rejected', order.version, {order_id: order.id, ...refusal})])
    return 'rejected'
  }
  const sorted = [...items].sort((a, b) => (a.product_id < b.product_id ? -1 : 1))
  const updated = await adjustStock(client, sorted.map((i) => ({product_id: i.product_id, delta: -i.quantity})))
  await insertReservations(client, order.id, sorted)
  const messages: OutboxMessage[] = [stockEvent(ns, 'stock.reserved', order.version, {order_id: order.id, items}), ...updated.map((row) => productEvent(ns, 'product.updated', row))]
  await appendOutbox(client, SCHEMA, messages)
  return 'reserved'
}

/**
 * Gives back what the order holds, once: only reservations not yet released are returned to stock.
 * The cancellation is remembered, so an order.created that arrives later reserves nothing.
 */
export const releaseStock = async (client: pg.PoolClient, ns: Namespace, order: {id: string; version: number}): Promise<ReleaseOutcome> => {
  await recordCancellation(client, order.id)
  // Products first, in id order, as reservations do: the two never wait on each other in a cycle.
  const held = await heldProductIds(client, order.id)
  if (held.length === 0) return 'nothing_held'
  await lockProducts(client, held)
  const released = await releaseReservations(client, order.id)
  if (released.length === 0) return 'nothing_held'
  const updated = await adjustStock(client, released.map((i) => ({product_id: i.product_id, delta: i.quantity})))
  await appendOutbox(client, SCHEMA, [
    stockEvent(ns, 'stock.released', order.version, {order_id: order.id, items: released}),
    ...updated.map((row) => productEvent(ns, 'product.updated', row)),
  ])
  return 'released'
}
