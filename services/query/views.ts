import type {Collection, Db} from 'mongodb'

import type {OrderStatus} from '../shared/events.js'

/**
 * The read models (PLATFORM.md §3.4) as stored in MongoDB. Dates are BSON dates (so sorting is by
 * instant, whatever offset a producer wrote); the API renders them as ISO-8601 strings.
 *
 * Internal fields, never returned by the API:
 * - `version`: aggregate_version of the last applied event (a view only moves forward);
 * - `fill_version` (customers, products): the version at which the fields copied into orders
 *   (name/email, sku/name) last changed, so orders are re-filled only when those change;
 * - `customer_version`, `items[].product_version` (orders): the fill_version they were filled from.
 */
export interface CustomerDoc {
  _id: string
  id: string
  name: string
  email: string
  address: string | null
  orders_count: number
  created_at: Date
  updated_at: Date
  version: number
  fill_version: number
}

export interface ProductDoc {
  _id: string
  id: string
  sku: string
  name: string
  price_cents: number
  stock: number
  created_at: Date
  updated_at: Date
  version: number
  fill_version: number
}

export interface OrderItemDoc {
  product_id: string
  sku: string | null
  name: string | null
  quantity: number
  unit_price_cents: number
  product_version: number
}

export interface OrderDoc {
  _id: string
  id: string
  customer: {id: string; name: string | null; email: string | null}
  customer_version: number
  items: OrderItemDoc[]
  status: OrderStatus
  total_cents: number
  created_at: Date
  updated_at: Date
  paid_at: Date | null
  canceled_at: Date | null
  cancel_reason: string | null
  version: number
}

export interface Views {
  orders: Collection<OrderDoc>
  products: Collection<ProductDoc>
  customers: Collection<CustomerDoc>
}

/** The collections of the views, by what they hold. */
export const VIEW_COLLECTIONS = {customers: 'customers_view', products: 'products_view', orders: 'orders_view'} as const
export type ViewKey = keyof typeof VIEW_COLLECTIONS
export type ViewName = (typeof VIEW_COLLECTIONS)[ViewKey]

/** The views; `names` puts some of them in other collections (a rebuild's shadows). */
export const views = (db: Db, names: Partial<Record<ViewKey, string>> = {}): Views => ({
  orders: db.collection<OrderDoc>(names.orders ?? VIEW_COLLECTIONS.orders),
  products: db.collection<ProductDoc>(names.products ?? VIEW_COLLECTIONS.products),
  customers: db.collection<CustomerDoc>(names.customers ?? VIEW_COLLECTIONS.customers),
})

const iso = (d: Date | null | undefined): string | null => (d instanceof Date ? d.toISOString() : null)

export const orderToApi = (o: OrderDoc) => ({
  id: o.id,
  customer: {id: o.customer.id, name: o.customer.name ?? null, email: o.customer.email ?? null},
  items: o.items.map((i) => ({product_id: i.product_id, sku: i.sku ?? null, name: i.name ?? null, quantity: i.quantity, unit_price_cents: i.unit_price_cents})),
  status: o.status,
  total_cents: o.total_cents,
  created_at: iso(o.created_at),
  updated_at: iso(o.updated_at),
  paid_at: iso(o.paid_at),
  canceled_at: iso(o.canceled_at),
  cancel_reason: o.cancel_reason ?? null,
})

export const productToApi = (p: ProductDoc) => ({
  id: p.id,
  sku: p.sku,
  name: p.name,
  price_cents: p.price_cents,
  stock: p.stock,
  created_at: iso(p.created_at),
  updated_at: iso(p.updated_at),
})

export const customerToApi = (c: CustomerDoc) => ({
  id: c.id,
  name: c.name,
  email: c.email,
  address: c.address ?? null,
  orders_count: c.orders_count,
  created_at: iso(c.created_at),
  updated_at: iso(c.updated_at),
})

export type ApiOrder = ReturnType<typeof orderToApi>
