import type {Filter} from 'mongodb'

import {atPath, customerCopy, productCopy} from './documents.js'
import type {CustomerDoc, OrderDoc, ProductDoc, Views} from './views.js'

/**
 * Copies a customer's name and email into the orders that show an older copy. Guarded by
 * `customer_version < fill_version`, so a late fill with older data never overwrites a newer one,
 * and orders are only touched when name or email actually changed (not on every orders_count bump).
 */
export const fillCustomer = async (v: Views, c: Pick<CustomerDoc, 'id' | 'name' | 'email' | 'fill_version'>, scope: Filter<OrderDoc> = {}): Promise<number> => {
  const result = await v.orders.updateMany(
    {...scope, 'customer.id': c.id, customer_version: {$lt: c.fill_version}},
    {$set: {...atPath('customer.', customerCopy(c)), customer_version: c.fill_version}},
  )
  return result.modifiedCount
}

type ItemsOnly = Pick<OrderDoc, '_id' | 'items'>

/**
 * Copies a product's sku and name into the order items that show an older copy. Positional
 * updates with `$elemMatch` are not portable (mongo-java-server rejects them) and arrayFilters are
 * outside the subset, so each stale item is set by its index (items never move within an order),
 * guarded by that item's own `product_version`.
 */
export const fillProduct = async (v: Views, p: Pick<ProductDoc, 'id' | 'sku' | 'name' | 'fill_version'>, orders?: ItemsOnly[]): Promise<number> => {
  const stale = (i: OrderDoc['items'][number]) => i.product_id === p.id && (i.product_version ?? 0) < p.fill_version
  const candidates =
    orders ?? (await v.orders.find({items: {$elemMatch: {product_id: p.id, product_version: {$lt: p.fill_version}}}}, {projection: {items: 1}}).toArray())
  let modified = 0
  for (const order of candidates) {
    for (const [index, item] of order.items.entries()) {
      if (!stale(item)) continue
      const at = `items.${index}`
      const result = await v.orders.updateOne(
        {_id: order._id, [`${at}.product_id`]: p.id, [`${at}.product_version`]: {$lt: p.fill_version}},
        {$set: {...atPath(`${at}.`, productCopy(p)), [`${at}.product_version`]: p.fill_version}},
      )
      modified += result.modifiedCount
    }
  }
  return modified
}
