import type pg from 'pg'

import type {Namespace} from '../shared/naming.js'
import type {Logger} from '../shared/logger.js'
import {markProcessedMany, withTransaction} from '../shared/db.js'
import {type Envelope, parseEnvelope} from '../shared/envelope.js'
import {PoisonMessageError} from '../shared/errors.js'
import type {ConsumedMessage} from '../shared/kafka.js'
import {SCHEMA} from './domain.js'
import type {ReservedItem} from './reservations.js'
import {releaseOrders, reserveOrders} from './stock.js'

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
    if (typeof item.quantity !== 'number' || !Number.isSafeInteger(item.quantity) || item.quantity < 1)
      throw new PoisonMessageError(`data.items[${i}].quantity must be an integer >= 1`)
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

/**
 * Handles a batch of order events of one topic exactly once: the ledger rows (keyed by event_id)
 * and the effects of the new events commit in one transaction.
 */
export const handleOrderEvents = (deps: OrderEventsDeps) => {
  const byTopic = new Map<string, OrderTopic>(ORDER_TOPICS.map((t) => [deps.ns(t), t]))
  return async (ms: ConsumedMessage[]): Promise<void> => {
    const events = ms.map(({topic, message}) => {
      const type = byTopic.get(topic)
      if (!type) throw new PoisonMessageError(`unexpected topic ${topic}`)
      const envelope = parseEnvelope(message.value)
      return {type, eventId: envelope.event_id, order: parseOrder(envelope, type)}
    })
    const outcomes = await withTransaction(deps.pool, async (client) => {
      const fresh = await markProcessedMany(
        client,
        SCHEMA,
        CONSUMER,
        events.map((e) => e.eventId),
      )
      const todo = events.filter((e) => fresh.delete(e.eventId)) // a repeat within the batch counts once
      const created = todo.filter((e) => e.type === 'order.created')
      const canceled = todo.filter((e) => e.type === 'order.canceled')
      const result = new Map<(typeof events)[number], string>()
      ;(
        await reserveOrders(
          client,
          deps.ns,
          created.map((e) => e.order),
        )
      ).forEach((o, k) => result.set(created[k]!, o))
      ;(
        await releaseOrders(
          client,
          deps.ns,
          canceled.map((e) => e.order),
        )
      ).forEach((o, k) => result.set(canceled[k]!, o))
      return events.map((e) => result.get(e) ?? 'duplicate')
    })
    events.forEach(({type, eventId, order}, k) => {
      deps.logger.debug('product.order_event', {type, order_id: order.id, event_id: eventId, outcome: outcomes[k]})
      deps.feed({type, id: order.id, outcome: 'handled', detail: outcomes[k]})
    })
  }
}
