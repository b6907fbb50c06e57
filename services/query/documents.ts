import type {CustomerData, OrderData, ProductData} from '../shared/events.js'
import type {CustomerDoc, OrderDoc, ProductDoc} from './views.js'

/**
 * How the views' documents are made from event data: the projector's writes (apply.ts,
 * enrich.ts) and the document a verify or a rebuild expects from the write models both come
 * from these functions, so the two can never disagree on a mapping.
 */

const date = (s: string): Date => new Date(s)
const maybeDate = (s: string | null | undefined): Date | null => (s === null || s === undefined ? null : new Date(s))

/** customers_view fields a customer.* event sets (all but the versions). */
export const customerFields = (c: CustomerData) => ({
  id: c.id,
  name: c.name,
  email: c.email,
  address: c.address ?? null,
  orders_count: c.orders_count ?? 0,
  created_at: date(c.created_at),
  updated_at: date(c.updated_at),
})

/** products_view fields a product.* event sets (stock included). */
export const productFields = (p: ProductData) => ({
  id: p.id,
  sku: p.sku,
  name: p.name,
  price_cents: p.price_cents,
  stock: p.stock,
  created_at: date(p.created_at),
  updated_at: date(p.updated_at),
})

/** What of a customer is copied into its orders (`customer.<key>`), and of a product into order items. */
export const CUSTOMER_COPY = ['name', 'email'] as const
export const PRODUCT_COPY = ['sku', 'name'] as const
export const customerCopy = (c: Pick<CustomerDoc, 'name' | 'email'>) => ({name: c.name, email: c.email})
export const productCopy = (p: Pick<ProductDoc, 'sku' | 'name'>) => ({sku: p.sku, name: p.name})

/** `{a: 1}` with prefix `customer.` → `{'customer.a': 1}`: a copy as a `$set` of embedded fields. */
export const atPath = (prefix: string, fields: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(fields).map(([k, v]) => [`${prefix}${k}`, v]))

/** orders_view fields every order.* event sets. */
export const orderState = (o: OrderData, version: number) => ({
  id: o.id,
  status: o.status,
  total_cents: o.total_cents,
  created_at: date(o.created_at),
  updated_at: date(o.updated_at),
  paid_at: maybeDate(o.paid_at),
  canceled_at: maybeDate(o.canceled_at),
  cancel_reason: o.cancel_reason ?? null,
  version,
})

/** orders_view fields set once, when an order is first seen (they never change): customer and items, names not copied yet. */
export const orderSkeleton = (o: OrderData): Pick<OrderDoc, 'customer' | 'customer_version' | 'items'> => ({
  customer: {id: o.customer_id, name: null, email: null},
  customer_version: 0,
  items: o.items.map((i) => ({
    product_id: i.product_id,
    sku: null,
    name: null,
    quantity: i.quantity,
    unit_price_cents: i.unit_price_cents,
    product_version: 0,
  })),
})

/** A customer or product as a source of the names copied into orders, with the fill_version they come from. */
export type CustomerSource = Pick<CustomerDoc, 'name' | 'email' | 'fill_version'>
export type ProductSource = Pick<ProductDoc, 'sku' | 'name' | 'fill_version'>

/**
 * The order document the projector ends with once its names are copied: the state of its newest
 * event, the skeleton of its first, the customer's and each product's names as the fills copy
 * them (left null when that customer or product is unknown, as the projector leaves them).
 */
export const orderDocument = (
  o: OrderData,
  version: number,
  customer: CustomerSource | undefined,
  product: (id: string) => ProductSource | undefined,
): OrderDoc => {
  const skeleton = orderSkeleton(o)
  return {
    _id: o.id,
    ...orderState(o, version),
    customer: customer ? {...skeleton.customer, ...customerCopy(customer)} : skeleton.customer,
    customer_version: customer?.fill_version ?? 0,
    items: skeleton.items.map((item) => {
      const p = product(item.product_id)
      return p ? {...item, ...productCopy(p), product_version: p.fill_version} : item
    }),
  }
}

/**
 * A customers_view / products_view document built at one version: its names are taken to have
 * changed at that version (`fill_version`), and their copy into orders to be done with it.
 */
export const customerDocument = (c: CustomerData, version: number): CustomerDoc & {filled_version: number} => ({
  _id: c.id,
  ...customerFields(c),
  version,
  fill_version: version,
  filled_version: version,
})

export const productDocument = (p: ProductData, version: number): ProductDoc & {filled_version: number} => ({
  _id: p.id,
  ...productFields(p),
  version,
  fill_version: version,
  filled_version: version,
})
