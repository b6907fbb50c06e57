import {randomUUID} from 'node:crypto'

import type pg from 'pg'

import type {Namespace} from '../shared/naming.js'
import {markProcessedMany, withTransaction} from '../shared/db.js'
import {HttpError, notFound, PoisonMessageError, unprocessable} from '../shared/errors.js'
import type {OrderItem, OrderStatus} from '../shared/events.js'
import {appendOutbox} from '../shared/outbox.js'
import {type CreateOrderInput, isUuid, mergeLines, nextStatus, requestHash, type Transition, transitionConflict} from './domain.js'
import {orderEvents} from './events.js'
import type {Lookups} from './lookups.js'
import * as repo from './repository.js'

export interface Created {
  order: repo.Order
  /** True when an Idempotency-Key matched an earlier request: nothing was written or published. */
  replayed: boolean
}

/** What a stock event did to its order. */
export type StockOutcome = {kind: 'applied'; order: repo.Order} | {kind: 'duplicate'} | {kind: 'ignored'; status: OrderStatus}

export interface OrderService {
  /** `idempotency.hash` defaults to the fingerprint of `input` (checkout passes its own: the basket changes). */
  create(input: CreateOrderInput, idempotency?: Idempotency): Promise<Created>
  /** The order an Idempotency-Key already created; 422 when it was used with another request. */
  replay(idempotency: Required<Idempotency>): Promise<repo.Order | undefined>
  get(id: string): Promise<repo.Order>
  list(filter: {customerId?: string; status?: OrderStatus; limit: number}): Promise<repo.Order[]>
  /** User transitions (pay, cancel): 404 when missing, 409 naming the current status when not allowed. */
  transition(id: string, transition: Transition, reason?: string): Promise<repo.Order>
  /** Applies a batch of stock.reserved / stock.rejected exactly once per event id, in one transaction. */
  applyStockEvents(events: StockEvent[]): Promise<StockOutcome[]>
}

/** stock.reserved (reserve) or stock.rejected (cancel, with the rejection's reason) for one order. */
export interface StockEvent {
  eventId: string
  orderId: string
  transition: Transition
  reason?: string
}

export interface Idempotency {
  key: string
  hash?: string
}

class KeyTaken extends Error {}

const CONSUMER = 'stock-events'

export const createOrderService = (deps: {pool: pg.Pool; lookups: Lookups; ns: Namespace}): OrderService => {
  const {pool, lookups, ns} = deps

  /** The order an Idempotency-Key already points to, or undefined when the key is new. */
  const replay = async ({key, hash}: Required<Idempotency>): Promise<repo.Order | undefined> => {
    const known = await repo.findIdempotencyKey(pool, key)
    if (!known) return undefined
    if (known.request_hash !== hash) {
      throw unprocessable(`Idempotency-Key "${key}" was already used with a different request body; use a new key for a different order`, {
        field: 'Idempotency-Key',
      })
    }
    return repo.findOrder(pool, known.order_id)
  }

  const service: OrderService = {
    replay,

    async create(input, idempotency) {
      const key = idempotency?.key
      const hash = idempotency?.hash ?? requestHash(input)
      if (key) {
        const earlier = await replay({key, hash})
        if (earlier) return {order: earlier, replayed: true}
      }
      const lines = mergeLines(input.items)
      await lookups.assertCustomer(input.customer_id)
      const prices = await lookups.prices(lines)
      const items: OrderItem[] = lines.map((l) => ({product_id: l.product_id, quantity: l.quantity, unit_price_cents: prices.get(l.product_id)!}))
      const total = items.reduce((sum, i) => sum + i.quantity * i.unit_price_cents, 0)
      if (!Number.isSafeInteger(total)) throw unprocessable('items: the order total is too large', {field: 'items'})
      if (!key) {
        const order = repo.newOrder({id: randomUUID(), customer_id: input.customer_id, total_cents: total, items})
        await repo.insertOrderWithEvents(pool, order, orderEvents(order, ns))
        return {order, replayed: false}
      }
      try {
        const order = await withTransaction(pool, async (client) => {
          const created = await repo.insertOrder(client, {id: randomUUID(), customer_id: input.customer_id, total_cents: total, items})
          // After the order row (the key references it); a concurrent twin waits here, then loses.
          if (key && !(await repo.claimIdempotencyKey(client, key, hash, created.id))) throw new KeyTaken()
          await appendOutbox(client, repo.SCHEMA, orderEvents(created, ns))
          return created
        })
        return {order, replayed: false}
      } catch (error) {
        if (!(error instanceof KeyTaken) || !key) throw error
        const earlier = await replay({key, hash})
        if (!earlier) throw new HttpError(409, 'conflict', `Idempotency-Key "${key}" is being used by a concurrent request; retry`)
        return {order: earlier, replayed: true}
      }
    },

    async get(id) {
      const order = isUuid(id) ? await repo.findOrder(pool, id) : undefined
      if (!order) throw notFound('order', id)
      return order
    },

    list: (filter) => repo.listOrders(pool, filter),

    async transition(id, transition, reason) {
      if (!isUuid(id)) throw notFound('order', id)
      // Read, decide, then write only if the order is still at the version read (one statement with
      // its events); a concurrent change makes the write miss, and the decision is taken again.
      for (let attempt = 0; attempt < 5; attempt++) {
        const current = await repo.findOrder(pool, id)
        if (!current) throw notFound('order', id)
        const to = nextStatus(transition, current.status)
        if (!to) throw transitionConflict(id, transition, current.status)
        const now = new Date().toISOString()
        const next: repo.Order = {
          ...current,
          status: to,
          version: current.version + 1,
          updated_at: now,
          paid_at: to === 'PAID' ? now : current.paid_at,
          canceled_at: to === 'CANCELED' ? now : current.canceled_at,
          cancel_reason: to === 'CANCELED' ? (reason ?? null) : current.cancel_reason,
        }
        if (await repo.updateOrderWithEvents(pool, next, current.version, orderEvents(next, ns))) return next
      }
      throw new HttpError(409, 'conflict', `order ${id} kept changing while it was being ${transition === 'pay' ? 'paid' : 'canceled'}; retry`)
    },

    async applyStockEvents(events) {
      for (const e of events) if (!isUuid(e.orderId)) throw new PoisonMessageError(`order_id ${e.orderId} is not an order id`)
      return withTransaction(pool, async (client): Promise<StockOutcome[]> => {
        const fresh = await markProcessedMany(
          client,
          repo.SCHEMA,
          CONSUMER,
          events.map((e) => e.eventId),
        )
        const orders = await repo.lockOrders(client, [...new Set(events.map((e) => e.orderId))])
        const changes: {id: string; expectedVersion: number; to: OrderStatus; reason: string | null}[] = []
        const outcomes = events.map((e): StockOutcome | number => {
          if (!fresh.delete(e.eventId)) return {kind: 'duplicate'} // seen before, or a repeat within the batch
          const current = orders.get(e.orderId)
          // Orders are committed before order.created is published, so a stock event can only name an existing order.
          if (!current) throw new PoisonMessageError(`order ${e.orderId} does not exist`)
          const to = nextStatus(e.transition, current.status)
          // A stock event never resurrects or overrides a settled order: stock.reserved after a user cancel
          // (product releases on the order.canceled that cancel emitted), or a stale stock.rejected after a
          // reservation, is recorded as processed and otherwise ignored.
          if (!to || (e.transition === 'cancel' && current.status !== 'PENDING')) return {kind: 'ignored', status: current.status}
          changes.push({id: e.orderId, expectedVersion: current.version, to, reason: e.reason ?? null})
          orders.set(e.orderId, {status: to, version: current.version + 1})
          return changes.length - 1
        })
        // Stock events only move PENDING orders, so an order changes at most once per batch.
        const updated = await repo.updateStatuses(client, changes)
        const byId = new Map(updated.map((o) => [o.id, o]))
        await appendOutbox(
          client,
          repo.SCHEMA,
          updated.flatMap((o) => orderEvents(o, ns)),
        )
        return outcomes.map((o) => (typeof o === 'number' ? {kind: 'applied', order: byId.get(changes[o]!.id)!} : o))
      })
    },
  }
  return service
}
