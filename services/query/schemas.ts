import {z} from 'zod'

import type {Envelope} from '../shared/envelope.js'
import {PoisonMessageError} from '../shared/errors.js'
import type {CustomerData, OrderData, ProductData} from '../shared/events.js'

/**
 * Checks of the event data the projections rely on (services/shared/events.ts). An event whose
 * data does not match can never be applied: it is a poison message, dead-lettered at once.
 */
const isoDate = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'not an ISO-8601 date')
const id = z.string().min(1)
const count = z.number().int().nonnegative()

const customer = z.object({
  id,
  name: z.string(),
  email: z.string(),
  address: z.string().nullable().optional(),
  orders_count: count.optional(),
  created_at: isoDate,
  updated_at: isoDate,
})

const product = z.object({
  id,
  sku: z.string(),
  name: z.string(),
  price_cents: count,
  stock: z.number().int(),
  created_at: isoDate,
  updated_at: isoDate,
})

export const ORDER_STATUSES = ['PENDING', 'RESERVED', 'PAID', 'CANCELED'] as const

const order = z.object({
  id,
  customer_id: id,
  status: z.enum(ORDER_STATUSES),
  total_cents: count,
  items: z.array(z.object({product_id: id, quantity: z.number().int().positive(), unit_price_cents: count})),
  created_at: isoDate,
  updated_at: isoDate,
  paid_at: isoDate.nullable().optional(),
  canceled_at: isoDate.nullable().optional(),
  cancel_reason: z.string().nullable().optional(),
})

const parse = <S extends z.ZodType>(schema: S, e: Envelope): z.infer<S> => {
  const result = schema.safeParse(e.data)
  if (!result.success) {
    const issue = result.error.issues[0]
    throw new PoisonMessageError(`${e.type} data invalid at ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`)
  }
  const data = result.data as {id: string}
  if (data.id !== e.aggregate_id) throw new PoisonMessageError(`${e.type} data.id ${data.id} differs from aggregate_id ${e.aggregate_id}`)
  if (e.aggregate_version < 1) throw new PoisonMessageError(`aggregate_version ${e.aggregate_version} is not positive`)
  return result.data
}

export const customerData = (e: Envelope): CustomerData => {
  const d = parse(customer, e)
  return {...d, address: d.address ?? null, orders_count: d.orders_count ?? 0}
}

export const productData = (e: Envelope): ProductData => parse(product, e)

export const orderData = (e: Envelope): OrderData => {
  const d = parse(order, e)
  return {...d, paid_at: d.paid_at ?? null, canceled_at: d.canceled_at ?? null, cancel_reason: d.cancel_reason ?? null}
}
