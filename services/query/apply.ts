import type {CustomerData, OrderData, ProductData} from '../shared/events.js'
import {fillCustomer, fillProduct} from './enrich.js'
import {applyVersioned, isDuplicateKey} from './versioned.js'
import type {CustomerDoc, OrderDoc, ProductDoc, Views} from './views.js'

const date = (s: string): Date => new Date(s)
const maybeDate = (s: string | null): Date | null => (s === null ? null : new Date(s))

/**
 * customer.* → customers_view, then the customer's name/email into their orders. The fill runs
 * even for an old or duplicate event (from the newest stored state): a redelivery after a crash
 * between the two writes still completes it.
 */
export const applyCustomer = async (v: Views, version: number, c: CustomerData): Promise<boolean> => {
  const fields: Omit<CustomerDoc, '_id' | 'version' | 'fill_version'> = {
    id: c.id,
    name: c.name,
    email: c.email,
    address: c.address,
    orders_count: c.orders_count,
    created_at: date(c.created_at),
    updated_at: date(c.updated_at),
  }
  const {applied, doc} = await applyVersioned(v.customers, c.id, version, fields, ['name', 'email'])
  await fillCustomer(v, doc)
  return applied
}

/** product.* → products_view (with the stock the event carries), then sku/name into order items. */
export const applyProduct = async (v: Views, version: number, p: ProductData): Promise<boolean> => {
  const fields: Omit<ProductDoc, '_id' | 'version' | 'fill_version'> = {
    id: p.id,
    sku: p.sku,
    name: p.name,
    price_cents: p.price_cents,
    stock: p.stock,
    created_at: date(p.created_at),
    updated_at: date(p.updated_at),
  }
  const {applied, doc} = await applyVersioned(v.products, p.id, version, fields, ['sku', 'name'])
  await fillProduct(v, doc)
  return applied
}

/**
 * order.* → orders_view: `{_id, version: {$lt: v}}` upsert; a duplicate-key error means the view
 * already holds this version or a newer one. Customer and items are set only on insert (they never
 * change within an order) with empty names; the names are then filled from the views. Writing the
 * order before reading the customer/product views (while their handlers write the view before
 * filling orders) means one side always sees the other, in whatever order events arrive.
 */
export const applyOrder = async (v: Views, version: number, o: OrderData): Promise<boolean> => {
  let applied = true
  try {
    await v.orders.updateOne(
      {_id: o.id, version: {$lt: version}},
      {
        $set: {
          id: o.id,
          status: o.status,
          total_cents: o.total_cents,
          created_at: date(o.created_at),
          updated_at: date(o.updated_at),
          paid_at: maybeDate(o.paid_at),
          canceled_at: maybeDate(o.canceled_at),
          cancel_reason: o.cancel_reason,
          version,
        },
        $setOnInsert: {
          customer: {id: o.customer_id, name: null, email: null},
          customer_version: 0,
          items: o.items.map((i) => ({product_id: i.product_id, sku: null, name: null, quantity: i.quantity, unit_price_cents: i.unit_price_cents, product_version: 0})),
        },
      },
      {upsert: true},
    )
  } catch (error) {
    if (!isDuplicateKey(error)) throw error
    applied = false // older or duplicate event: the view keeps the newer state
  }
  await enrichOrder(v, o.id)
  return applied
}

const enrichOrder = async (v: Views, orderId: string): Promise<void> => {
  const order = await v.orders.findOne({_id: orderId}, {projection: {customer: 1, customer_version: 1, items: 1}})
  if (!order) return
  const productIds = [...new Set(order.items.map((i) => i.product_id))]
  const [customer, products] = await Promise.all([
    v.customers.findOne({_id: order.customer.id}, {projection: {id: 1, name: 1, email: 1, fill_version: 1}}),
    productIds.length ? v.products.find({_id: {$in: productIds}}, {projection: {id: 1, sku: 1, name: 1, fill_version: 1}}).toArray() : [],
  ])
  if (customer && (order.customer_version ?? 0) < customer.fill_version) await fillCustomer(v, customer, {_id: orderId})
  for (const p of products) await fillProduct(v, p, [order as Pick<OrderDoc, '_id' | 'items'>])
}
