import {createHash} from 'node:crypto'

import {conflict, HttpError} from '../shared/errors.js'
import type {OrderData, OrderItem, OrderStatus} from '../shared/events.js'

/** The database schema of the component (PLATFORM.md §3: one schema per component). */
export const SCHEMA = 'order'

/** An order as stored: the event data (OrderData) plus its version. */
export interface Order extends OrderData {
  version: number
}

/** A row of "order".orders (numeric and timestamps as pg returns them). */
export interface OrderRow {
  id: string
  customer_id: string
  status: OrderStatus
  total_cents: string
  version: number
  created_at: Date
  updated_at: Date
  paid_at: Date | null
  canceled_at: Date | null
  cancel_reason: string | null
}

export const toOrder = (row: OrderRow, items: OrderItem[]): Order => ({
  id: row.id,
  customer_id: row.customer_id,
  status: row.status,
  total_cents: Number(row.total_cents),
  items,
  created_at: row.created_at.toISOString(),
  updated_at: row.updated_at.toISOString(),
  paid_at: row.paid_at?.toISOString() ?? null,
  canceled_at: row.canceled_at?.toISOString() ?? null,
  cancel_reason: row.cancel_reason,
  version: row.version,
})

/** The event data of an order: exactly OrderData (services/shared/events.ts), without the version. */
export const orderData = ({version: _version, ...data}: Order): OrderData => data

/** Limits shared by the HTTP schema and the basket checkout (which bypasses the schema). */
export const MAX_LINES = 100
export const MAX_QUANTITY = 1_000_000
export const MAX_ID_LENGTH = 200

export interface OrderLineInput {
  product_id: string
  quantity: number
}

export interface CreateOrderInput {
  customer_id: string
  items: OrderLineInput[]
}

/** A line after merging, with the index of its first occurrence in the request (for `items[i]` messages). */
export interface MergedLine extends OrderLineInput {
  index: number
}

/**
 * Duplicate product_id lines are MERGED, not rejected: their quantities are added and the line
 * keeps the position of its first occurrence. An order therefore has at most one line per product
 * (enforced by UNIQUE (order_id, product_id)), which keeps stock reservations simple for product.
 */
export const mergeLines = (items: OrderLineInput[]): MergedLine[] => {
  const byProduct = new Map<string, MergedLine>()
  items.forEach((item, index) => {
    const seen = byProduct.get(item.product_id)
    if (seen) seen.quantity += item.quantity
    else byProduct.set(item.product_id, {product_id: item.product_id, quantity: item.quantity, index})
  })
  const lines = [...byProduct.values()]
  const tooMany = lines.find((l) => l.quantity > MAX_QUANTITY)
  if (tooMany)
    throw new HttpError(
      422,
      'unprocessable',
      `items[${tooMany.index}].quantity: product ${tooMany.product_id} is ordered ${tooMany.quantity} times in total, more than ${MAX_QUANTITY}`,
      {field: `items[${tooMany.index}].quantity`},
    )
  return lines
}

/** Fingerprint of a create request, compared when an Idempotency-Key is reused. */
export const requestHash = (input: CreateOrderInput): string =>
  createHash('sha256')
    .update(JSON.stringify([input.customer_id, input.items.map((i) => [i.product_id, i.quantity])]))
    .digest('hex')

export type Transition = 'reserve' | 'pay' | 'cancel'

const RULES: Record<Transition, {from: OrderStatus[]; to: OrderStatus; verb: string}> = {
  reserve: {from: ['PENDING'], to: 'RESERVED', verb: 'reserved'},
  pay: {from: ['RESERVED'], to: 'PAID', verb: 'paid'},
  cancel: {from: ['PENDING', 'RESERVED'], to: 'CANCELED', verb: 'canceled'},
}

/** The status a transition leads to from `current`, or undefined when it is not allowed (PAID and CANCELED are terminal). */
export const nextStatus = (transition: Transition, current: OrderStatus): OrderStatus | undefined =>
  RULES[transition].from.includes(current) ? RULES[transition].to : undefined

export const transitionConflict = (id: string, transition: Transition, current: OrderStatus): HttpError => {
  const rule = RULES[transition]
  return conflict(`order ${id} is ${current}; only ${rule.from.join(' or ')} orders can be ${rule.verb}`, {status: current})
}

/** The event emitted when an order enters a status. */
export const EVENT_TYPE: Record<OrderStatus, string> = {
  PENDING: 'order.created',
  RESERVED: 'order.reserved',
  PAID: 'order.paid',
  CANCELED: 'order.canceled',
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
export const isUuid = (value: string): boolean => UUID.test(value)
