import type pg from 'pg'

import {type CustomerRow, SCHEMA as CUSTOMER_SCHEMA, toCustomer} from '../customer/domain.js'
import {type ProductRow, SCHEMA as PRODUCT_SCHEMA, toProduct} from '../product/domain.js'
import type {CustomerData, OrderData, OrderStatus, ProductData} from '../shared/events.js'
import type {Versioned} from './apply.js'
import {type CustomerSource, customerDocument, orderDocument, type ProductSource, productDocument} from './documents.js'
import type {CustomerDoc, OrderDoc, ProductDoc, ViewKey} from './views.js'

/**
 * The write models as the views see them: every customer, product and order with its version,
 * read from the components' own tables (read only) and turned into the event data the component
 * would publish for that version, so the expected document comes from the projector's own
 * mapping (documents.ts). Pages are in id order (keyset, on each table's primary key), so a scan
 * of 100,000 orders holds one page at a time. Only verify and rebuild read these tables from here.
 */

export type Queryable = Pick<pg.Pool, 'query'>

/** services/order/repository.ts SCHEMA (not imported: that module brings the outbox relay with it). */
const ORDER_SCHEMA = 'order'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
/** Primary keys are uuids: an id of another shape cannot be in the write model (and would fail the cast). */
export const uuidsOf = (ids: Iterable<string>): string[] => [...new Set(ids)].filter((id) => UUID.test(id))

interface OrderRow {
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
  items: {product_id: string; quantity: number; unit_price_cents: number | string}[]
}

/** The same OrderData the order component publishes (services/order/repository.ts toOrder + orderData). */
const toOrderData = (r: OrderRow): OrderData => ({
  id: r.id,
  customer_id: r.customer_id,
  status: r.status,
  total_cents: Number(r.total_cents),
  items: r.items.map((i) => ({product_id: i.product_id, quantity: i.quantity, unit_price_cents: Number(i.unit_price_cents)})),
  created_at: r.created_at.toISOString(),
  updated_at: r.updated_at.toISOString(),
  paid_at: r.paid_at?.toISOString() ?? null,
  canceled_at: r.canceled_at?.toISOString() ?? null,
  cancel_reason: r.cancel_reason,
})

/** One table of the write model: how to read it, and the event data of a row. */
interface Table<R, D> {
  from: string
  columns: string
  data: (row: R) => D
}

const CUSTOMERS: Table<CustomerRow, CustomerData> = {
  from: `"${CUSTOMER_SCHEMA}".customers t`,
  columns: 't.id, t.name, t.email, t.address, t.orders_count, t.version, t.created_at, t.updated_at',
  data: toCustomer,
}

const PRODUCTS: Table<ProductRow, ProductData> = {
  from: `"${PRODUCT_SCHEMA}".products t`,
  columns: 't.id, t.sku, t.name, t.price_cents, t.stock, t.version, t.created_at, t.updated_at',
  data: toProduct,
}

const ORDERS: Table<OrderRow, OrderData> = {
  from: `"${ORDER_SCHEMA}".orders t`,
  columns: `t.id, t.customer_id, t.status, t.total_cents, t.version, t.created_at, t.updated_at, t.paid_at, t.canceled_at, t.cancel_reason,
    COALESCE((SELECT json_agg(json_build_object('product_id', i.product_id, 'quantity', i.quantity, 'unit_price_cents', i.unit_price_cents) ORDER BY i.line)
              FROM "${ORDER_SCHEMA}".order_items i WHERE i.order_id = t.id), '[]') AS items`,
  data: toOrderData,
}

const versioned =
  <R extends {version: number}, D>(table: Table<R, D>) =>
  (rows: R[]): Versioned<D>[] =>
    rows.map((r) => ({version: r.version, data: table.data(r)}))

/** Reads of one table: a page after an id, rows by id, which ids exist, what changed since an instant, the count. */
export interface Source<D> {
  count(db: Queryable): Promise<number>
  page(db: Queryable, after: string | undefined, limit: number): Promise<Versioned<D>[]>
  byIds(db: Queryable, ids: Iterable<string>): Promise<Versioned<D>[]>
  /** Which of these ids the table holds. */
  existing(db: Queryable, ids: Iterable<string>): Promise<Set<string>>
  /** Id and version of the rows changed since an instant (by `updated_at`, which every change sets). */
  versionsSince(db: Queryable, since: Date): Promise<{id: string; version: number}[]>
}

const source = <R extends {version: number}, D>(table: Table<R, D>): Source<D> => {
  const rows = versioned(table)
  return {
    count: async (db) => (await db.query<{n: number}>(`SELECT count(*)::int AS n FROM ${table.from}`)).rows[0]?.n ?? 0,
    page: async (db, after, limit) =>
      rows(
        (after === undefined
          ? await db.query<R>(`SELECT ${table.columns} FROM ${table.from} ORDER BY t.id LIMIT $1`, [limit])
          : await db.query<R>(`SELECT ${table.columns} FROM ${table.from} WHERE t.id > $1::uuid ORDER BY t.id LIMIT $2`, [after, limit])
        ).rows,
      ),
    byIds: async (db, ids) => {
      const wanted = uuidsOf(ids)
      return wanted.length === 0 ? [] : rows((await db.query<R>(`SELECT ${table.columns} FROM ${table.from} WHERE t.id = ANY($1::uuid[])`, [wanted])).rows)
    },
    existing: async (db, ids) => {
      const wanted = uuidsOf(ids)
      if (wanted.length === 0) return new Set()
      return new Set((await db.query<{id: string}>(`SELECT t.id FROM ${table.from} WHERE t.id = ANY($1::uuid[])`, [wanted])).rows.map((r) => r.id))
    },
    // updated_at has no index: a sequential scan, cheap next to anything done with the rows.
    versionsSince: async (db, since) =>
      (await db.query<{id: string; version: number}>(`SELECT t.id, t.version FROM ${table.from} WHERE t.updated_at >= $1 ORDER BY t.id`, [since])).rows,
  }
}

export const SOURCES = {customers: source(CUSTOMERS), products: source(PRODUCTS), orders: source(ORDERS)} as const satisfies Record<ViewKey, Source<unknown>>

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
