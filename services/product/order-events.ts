import type pg from 'pg'

import type {Namespace} from '../../src/infra/topology/spec.js'
import type {Logger} from '../../src/lib/logger.js'
import {markProcessed, withTransaction} from '../shared/db.js'
import {type Envelope, parseEnvelope} from '../shared/envelope.js'
import {PoisonMessageError} from '../shared/errors.js'
import type {ConsumedMessage} from '../shared/kafka.js'
import {SCHEMA} from './domain.js'
import type {ReservedItem} from './reservations.js'
import {releaseStock, reserveStock} from './stock.js'

/** Kafka consumer group and topics (before namespacing), and the idempotency ledger's consumer name. */
export const GROUP = 'product'
export const ORDER_TOPICS = ['order.created', 'order.canceled'] as const
type OrderTopic = (typeof ORDER_TOPICS)[number]
const CONSUMER = 'product.orders'

/** The order fields the product component needs from OrderData; anything unusable is poison. */
export const parseOrder = (e: Envelope, type: OrderTopic): {id: string; version: number; items: ReservedItem[]} => {
  if (e.type !== type) throw new PoisonMessageError(`envelope type ${e.type} on the ${type} topic`)
  const data = e.data as {id?: unknown; items?: unknown}
  if (typeof data.id !== 'string' || data.id.trim() === '' || data.id.length > 200) throw new PoisonMessageError('data.id must be a non-empty string')
  if (type === 'order.canceled') return {id: data.id, version: e.aggregate_version, items: []}
  if (!Array.isArray(data.items) || data.items.length === 0) throw new PoisonMessageError('data.items must be a non-empty array')
  const items = data.items.map((raw: unknown, i: number): ReservedItem => {
    const item = raw as {product_id?: unknown; quantity?: unknown} | null
    if (typeof item?.product_id !== 'string' || item.product_id === '') throw new PoisonMessageError(`data.items[${i}].product_id must be a string`)
    if (typeof item.quantity !== 'number' || !Number.isSafeInteger(item.quantity) || item.quantity < 1) throw new PoisonMessageError(`data.items[${i}].quantity must be an integer >= 1`)
    return {product_id: item.product_id.toLowerCase(), quantity: item.quantity}
  })
  return {id: data.id, version: e.aggregate_version, items}
}

export interface OrderEventsDeps {
  pool: pg.Pool
  ns: Namespace
  logger: Logger
  feed: (entry: {type: string; id?: string; outcome: 'handled'; detail?: string}) => void
}

/** Handles one order event exactly once (ledger keyed by event_id, same transaction as the effect). */
export const handleOrderEvent = (deps: OrderEventsDeps) => {
  const byTopic = new Map<string, OrderTopic>(ORDER_TOPICS.map((t) => [deps.ns(t), t]))
  return async ({topic, message}: ConsumedMessage): Promise<void> => {
    const type = byTopic.get(topic)
    if (!type) throw new PoisonMessageError(`unexpected topic ${topic}`)
    const envelope = parseEnvelope(message.value)
    const order = parseOrder(envelope, type)
    const outcome = await withTransaction(deps.pool, async (client) => {
      if (!(await markProcessed(client, SCHEMA, CONSUMER, envelope.event_id))) return 'duplicate'
      return type === 'order.created' ? reserveStock(client, deps.ns, order) : releaseStock(client, deps.ns, order)
    })
    deps.logger.info('product.order_event', {type, order_id: order.id, event_id: envelope.event_id, outcome})
    deps.feed({type, id: order.id, outcome: 'handled', detail: outcome})
  }
}
