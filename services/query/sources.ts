import {customerSource} from '../customer/read-model-source.js'
import {orderSource} from '../order/read-model-source.js'
import {productSource} from '../product/read-model-source.js'
import type {CustomerData, OrderData, ProductData} from '../shared/events.js'
import type {Queryable, WriteModelReader} from '../shared/write-model.js'
import type {Versioned} from './apply.js'
import {type CustomerSource, customerDocument, orderDocument, type ProductSource, productDocument} from './documents.js'
import type {CustomerDoc, OrderDoc, ProductDoc, ViewKey} from './views.js'

/**
 * The write models as the views see them: every customer, product and order with its version, as
 * the event data its component would publish for that version, so the expected document comes
 * from the projector's own mapping (documents.ts). The reads themselves (SQL, paging in id order)
 * belong to each component (services/<component>/read-model-source.ts); query never queries their
 * tables itself. Only verify and rebuild use these.
 */

export type {Queryable} from '../shared/write-model.js'

export const SOURCES = {customers: customerSource, products: productSource, orders: orderSource} as const satisfies Record<ViewKey, WriteModelReader<unknown>>

/** PostgreSQL's clock: the write models' timestamps come from it (and from runners on the same host). */
export const databaseNow = async (db: Queryable): Promise<Date> => (await db.query<{now: Date}>('SELECT clock_timestamp() AS now')).rows[0]!.now

/** The customers and products named by orders, as sources of the names copied into them (their current write-model state). */
const namesFor = async (db: Queryable, orders: OrderData[]) => {
  const [customers, products] = await Promise.all([
    SOURCES.customers.byIds(
      db,
      orders.map((o) => o.customer_id),
    ),
    SOURCES.products.byIds(
      db,
      orders.flatMap((o) => o.items.map((i) => i.product_id)),
    ),
  ])
  const customerById = new Map<string, CustomerSource>(customers.map((c) => [c.data.id, {name: c.data.name, email: c.data.email, fill_version: c.version}]))
  const productById = new Map<string, ProductSource>(products.map((p) => [p.data.id, {sku: p.data.sku, name: p.data.name, fill_version: p.version}]))
  return {customer: (id: string) => customerById.get(id), product: (id: string) => productById.get(id)}
}

export type ViewDoc = CustomerDoc | ProductDoc | OrderDoc

/**
 * The documents the views should hold for these write-model rows, as the projector builds them
 * (documents.ts); orders with the names of their customer and products as the write model has them now.
 */
export const expectedDocuments = async (db: Queryable, view: ViewKey, rows: Versioned<unknown>[]): Promise<ViewDoc[]> => {
  switch (view) {
    case 'customers':
      return (rows as Versioned<CustomerData>[]).map((r) => customerDocument(r.data, r.version))
    case 'products':
      return (rows as Versioned<ProductData>[]).map((r) => productDocument(r.data, r.version))
    case 'orders': {
      const orders = rows as Versioned<OrderData>[]
      const names = await namesFor(
        db,
        orders.map((o) => o.data),
      )
      return orders.map((o) => orderDocument(o.data, o.version, names.customer(o.data.customer_id), names.product))
    }
  }
}
