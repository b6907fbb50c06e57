import type {Db} from 'mongodb'

import type {OrderStatus} from '../shared/events.js'
import {ORDER_STATUSES} from './schemas.js'
import {type ApiOrder, orderToApi, views} from './views.js'

export interface ProjectionStats {
  /** Every status is present, 0 when no order has it. */
  ordersByStatus: Record<OrderStatus, number>
  /** The 5 newest orders by created_at, as the API shows them. */
  latestOrders: ApiOrder[]
  counts: {orders: number; products: number; customers: number}
}

/** What the dashboard's projections panel shows (PLATFORM.md §6), from the views alone. */
export const projectionStats = async (db: Db): Promise<ProjectionStats> => {
  const v = views(db)
  const [groups, latest, orders, products, customers] = await Promise.all([
    v.orders.aggregate<{_id: OrderStatus; count: number}>([{$group: {_id: '$status', count: {$sum: 1}}}]).toArray(),
    v.orders.find({}).sort({created_at: -1, _id: -1}).limit(5).toArray(),
    v.orders.countDocuments({}),
    v.products.countDocuments({}),
    v.customers.countDocuments({}),
  ])
  const ordersByStatus = Object.fromEntries(ORDER_STATUSES.map((s) => [s, 0])) as Record<OrderStatus, number>
  for (const g of groups) if (g._id in ordersByStatus) ordersByStatus[g._id] = g.count
  return {ordersByStatus, latestOrders: latest.map(orderToApi), counts: {orders, products, customers}}
}

/** When the read model last changed an order (its newest updated_at), for the lag operators see. */
export const newestOrderViewChange = async (db: Db): Promise<Date | undefined> => {
  const [doc] = await views(db)
    .orders.find({}, {projection: {updated_at: 1}})
    .sort({updated_at: -1})
    .limit(1)
    .toArray()
  return doc?.updated_at ? new Date(doc.updated_at) : undefined
}
