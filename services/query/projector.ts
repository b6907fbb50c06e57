import {type Envelope, parseEnvelope} from '../shared/envelope.js'
import {PoisonMessageError} from '../shared/errors.js'
import type {CustomerData, OrderData, ProductData} from '../shared/events.js'
import type {ConsumedMessage} from '../shared/kafka.js'
import {applyCustomers, applyOrders, applyProducts, type Versioned} from './apply.js'
import {customerData, orderData, productData} from './schemas.js'
import type {Views} from './views.js'

export type Outcome = 'applied' | 'stale' | 'ignored'

/** The domain topics the projections read (before namespacing): stock.* change no view, so query does not subscribe to them. */
export const PROJECTED_TOPICS = [
  'customer.created',
  'customer.updated',
  'product.created',
  'product.updated',
  'order.created',
  'order.reserved',
  'order.paid',
  'order.canceled',
] as const

type Family = 'customer' | 'product' | 'order' | 'none'

const familyOf = (type: string): Family => {
  switch (type) {
    case 'customer.created':
    case 'customer.updated':
      return 'customer'
    case 'product.created':
    case 'product.updated':
      return 'product'
    case 'order.created':
    case 'order.reserved':
    case 'order.paid':
    case 'order.canceled':
      return 'order'
    case 'stock.reserved':
    case 'stock.rejected':
    case 'stock.released':
      return 'none'
    default:
      throw new PoisonMessageError(`unknown event type ${JSON.stringify(type)}`)
  }
}

/**
 * Applies a batch of envelopes (in order) to the views: one read and one bulk write per view for
 * the whole batch. Returns each envelope's outcome. Parsing and checks come first, so a poison
 * message fails the batch before anything is written (the consumer then goes one at a time).
 */
export const projectBatch = async (v: Views, envelopes: Envelope[]): Promise<Outcome[]> => {
  const customers: {i: number; e: Versioned<CustomerData>}[] = []
  const products: {i: number; e: Versioned<ProductData>}[] = []
  const orders: {i: number; e: Versioned<OrderData>}[] = []
  const outcomes: Outcome[] = envelopes.map(() => 'ignored')
  envelopes.forEach((e, i) => {
    const family = familyOf(e.type)
    if (family === 'customer') customers.push({i, e: {version: e.aggregate_version, data: customerData(e)}})
    else if (family === 'product') products.push({i, e: {version: e.aggregate_version, data: productData(e)}})
    else if (family === 'order') orders.push({i, e: {version: e.aggregate_version, data: orderData(e)}})
  })
  const record = (list: {i: number}[], applied: boolean[]) => list.forEach(({i}, k) => (outcomes[i] = applied[k] ? 'applied' : 'stale'))
  // Customers and products before orders: their views are what the orders' names are copied from.
  if (customers.length > 0)
    record(
      customers,
      await applyCustomers(
        v,
        customers.map((c) => c.e),
      ),
    )
  if (products.length > 0)
    record(
      products,
      await applyProducts(
        v,
        products.map((p) => p.e),
      ),
    )
  if (orders.length > 0)
    record(
      orders,
      await applyOrders(
        v,
        orders.map((o) => o.e),
      ),
    )
  return outcomes
}

export interface ProjectorStats {
  applied: number
  stale: number
  ignored: number
  lastEventAt?: string
  lastOccurredAt?: string
}

/** The consumer's batch handler: parse (poison → the batch goes one at a time, then DLQ), project, report. */
export const createProjector = (v: Views, onHandled: (e: Envelope, outcome: Outcome) => void) => {
  const stats: ProjectorStats = {applied: 0, stale: 0, ignored: 0}
  const handleBatch = async (ms: ConsumedMessage[]): Promise<void> => {
    const envelopes = ms.map((m) => parseEnvelope(m.message.value))
    const outcomes = await projectBatch(v, envelopes)
    const now = new Date().toISOString()
    envelopes.forEach((e, i) => {
      stats[outcomes[i]!]++
      stats.lastEventAt = now
      stats.lastOccurredAt = e.occurred_at
      onHandled(e, outcomes[i]!)
    })
  }
  return {handleBatch, stats}
}
