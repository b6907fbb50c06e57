import {type AnyBulkWriteOperation, type Collection, MongoBulkWriteError} from 'mongodb'

import type {CustomerData, OrderData, ProductData} from '../shared/events.js'
import {atPath, CUSTOMER_COPY, customerCopy, customerFields, orderSkeleton, orderState, PRODUCT_COPY, productCopy, productFields} from './documents.js'
import {fillCustomer, fillProduct} from './enrich.js'
import {DUPLICATE_KEY} from './versioned.js'
import type {OrderDoc, Views} from './views.js'

/** One event of a batch: its aggregate version and its (validated) data. */
export interface Versioned<T> {
  version: number
  data: T
}

/** A write lost to another runner (compare-and-set): the batch is retried, one event at a time if need be. */
export class ConcurrentViewChange extends Error {
  override name = 'ConcurrentViewChange'
}

interface SourceDoc {
  _id: string
  version: number
  fill_version: number
  /** The fill_version whose copy into orders finished; missing on documents written before it existed (filled then). */
  filled_version?: number
}

/**
 * customers_view / products_view for a batch of events: one read of the current documents, the
 * versions compared in memory (only newer events apply; fill_version moves when a field copied
 * into orders changes), one bulk write guarded by the version read (compare-and-set), then the
 * copy into orders for the documents whose copy is not done yet. That copy (a scan of orders on a
 * server without secondary indexes) runs only when name/email or sku/name changed, or when an
 * earlier copy was interrupted: `filled_version` records the last one that finished.
 */
const applySources = async <D extends SourceDoc>(
  coll: Collection<D>,
  events: Versioned<Omit<D, '_id' | 'version' | 'fill_version' | 'filled_version'> & {id: string}>[],
  fillKeys: readonly (keyof D & string)[],
  fill: (doc: D) => Promise<unknown>,
): Promise<boolean[]> => {
  const ids = [...new Set(events.map((e) => e.data.id))]
  const current = new Map<string, D>((await coll.find({_id: {$in: ids}} as never).toArray()).map((d) => [d._id as string, d as unknown as D]))
  const next = new Map<string, D>()
  const applied = events.map(({version, data}) => {
    const cur = next.get(data.id) ?? current.get(data.id)
    if (cur && cur.version >= version) return false
    const changed = !cur || fillKeys.some((k) => cur[k] !== (data as Record<string, unknown>)[k])
    const filled = cur ? (cur.filled_version ?? cur.fill_version) : 0
    next.set(data.id, {...cur, ...data, _id: data.id, version, fill_version: changed ? version : cur.fill_version, filled_version: filled} as unknown as D)
    return true
  })
  const ops: AnyBulkWriteOperation<D>[] = [...next].map(([id, doc]) => {
    const base = current.get(id)
    if (!base) return {insertOne: {document: doc as never}}
    // filled_version is moved by the copy alone (a concurrent copy may have just finished); a document
    // written before it existed gets it here, so an interrupted copy is still seen as one.
    const {_id, filled_version, ...set} = doc as SourceDoc
    return {
      updateOne: {
        filter: {_id: id, version: base.version} as never,
        update: {$set: (base.filled_version === undefined ? {...set, filled_version} : set) as never},
      },
    }
  })
  if (ops.length > 0) {
    const updates = ops.filter((op) => 'updateOne' in op).length
    try {
      const result = await coll.bulkWrite(ops, {ordered: false})
      if (result.matchedCount !== updates)
        throw new ConcurrentViewChange(`${coll.collectionName}: ${updates - result.matchedCount} document(s) changed under this batch`)
    } catch (error) {
      if (error instanceof MongoBulkWriteError && error.writeErrors && [error.writeErrors].flat().every((e) => e.code === DUPLICATE_KEY)) {
        throw new ConcurrentViewChange(`${coll.collectionName}: a document was inserted by another runner`)
      }
      throw error
    }
  }
  // Copies into orders still to do: this batch's new states, and older documents it touched whose copy was interrupted.
  const touched = new Map<string, D>([...current, ...next])
  for (const doc of touched.values()) {
    if ((doc.filled_version ?? doc.fill_version) >= doc.fill_version) continue
    await fill(doc)
    await coll.updateOne({_id: doc._id, fill_version: doc.fill_version} as never, {$set: {filled_version: doc.fill_version} as never})
  }
  return applied
}

/** customer.* → customers_view (orders_count included); name/email into their orders when they changed. */
export const applyCustomers = (v: Views, events: Versioned<CustomerData>[]): Promise<boolean[]> =>
  applySources(
    v.customers,
    events.map(({version, data}) => ({version, data: customerFields(data)})),
    CUSTOMER_COPY,
    (doc) => fillCustomer(v, doc),
  )

/** product.* → products_view (with the stock the event carries); sku/name into order items when they changed. */
export const applyProducts = (v: Views, events: Versioned<ProductData>[]): Promise<boolean[]> =>
  applySources(
    v.products,
    events.map(({version, data}) => ({version, data: productFields(data)})),
    PRODUCT_COPY,
    (doc) => fillProduct(v, doc),
  )

/**
 * order.* → orders_view, a batch at a time:
 * 1. one bulk write of `{_id, version: {$lt: v}}` upserts; a duplicate-key error for one of them
 *    means the view already holds that version or a newer one (the event is stale). Customer and
 *    items are set only on insert (they never change within an order), with empty names.
 * 2. one read of the batch's customers and products from their views;
 * 3. one bulk write copying names into these orders, each guarded by the version it comes from
 *    (`customer_version`, `items[i].product_version`), so it is a no-op when already done.
 * Writing the orders before reading the customer/product views, while their handlers write the
 * view before filling orders, means one side always sees the other, whatever the interleaving; and
 * step 3 runs for stale events too, so a redelivery after a crash between 1 and 3 completes it.
 */
export const applyOrders = async (v: Views, events: Versioned<OrderData>[]): Promise<boolean[]> => {
  if (events.length === 0) return []
  const upserts: AnyBulkWriteOperation<OrderDoc>[] = events.map(({version, data: o}) => ({
    updateOne: {
      filter: {_id: o.id, version: {$lt: version}},
      update: {$set: orderState(o, version), $setOnInsert: orderSkeleton(o)},
      upsert: true,
    },
  }))
  const applied = events.map(() => true)
  try {
    await v.orders.bulkWrite(upserts, {ordered: false})
  } catch (error) {
    if (!(error instanceof MongoBulkWriteError)) throw error
    const writeErrors = [error.writeErrors].flat()
    const other = writeErrors.find((e) => e.code !== DUPLICATE_KEY)
    if (other || writeErrors.length === 0) throw error
    for (const e of writeErrors) applied[e.index] = false // older or duplicate event: the view keeps the newer state
  }
  await fillOrders(
    v,
    events.map((e) => e.data),
  )
  return applied
}

const fillOrders = async (v: Views, orders: OrderData[]): Promise<void> => {
  const customerIds = [...new Set(orders.map((o) => o.customer_id))]
  const productIds = [...new Set(orders.flatMap((o) => o.items.map((i) => i.product_id)))]
  const [customers, products] = await Promise.all([
    v.customers.find({_id: {$in: customerIds}}, {projection: {name: 1, email: 1, fill_version: 1}}).toArray(),
    productIds.length ? v.products.find({_id: {$in: productIds}}, {projection: {sku: 1, name: 1, fill_version: 1}}).toArray() : [],
  ])
  const customerById = new Map(customers.map((c) => [c._id, c]))
  const productById = new Map(products.map((p) => [p._id, p]))
  const ops: AnyBulkWriteOperation<OrderDoc>[] = []
  const seen = new Set<string>()
  for (const o of orders) {
    if (seen.has(o.id)) continue
    seen.add(o.id)
    const c = customerById.get(o.customer_id)
    if (c) {
      ops.push({
        updateOne: {
          filter: {_id: o.id, 'customer.id': o.customer_id, customer_version: {$lt: c.fill_version}},
          update: {$set: {...atPath('customer.', customerCopy(c)), customer_version: c.fill_version}},
        },
      })
    }
    for (const [index, item] of o.items.entries()) {
      const p = productById.get(item.product_id)
      if (!p) continue
      const at = `items.${index}`
      ops.push({
        updateOne: {
          filter: {_id: o.id, [`${at}.product_id`]: item.product_id, [`${at}.product_version`]: {$lt: p.fill_version}},
          update: {$set: {...atPath(`${at}.`, productCopy(p)), [`${at}.product_version`]: p.fill_version}},
        },
      })
    }
  }
  if (ops.length > 0) await v.orders.bulkWrite(ops, {ordered: false})
}
