import type amqp from 'amqplib'
import type pg from 'pg'

import type {Namespace} from '../shared/naming.js'
import type {Logger} from '../shared/logger.js'
import {jsonBodyText} from '../shared/amqp-body.js'
import {markProcessedMany, withTransaction} from '../shared/db.js'
import {appendOutbox} from '../shared/outbox.js'
import {PoisonMessageError} from '../shared/errors.js'
import type {OrderCreatedMessage} from '../shared/events.js'
import {textFault} from '../shared/text.js'
import type {CustomerCache} from './cache.js'
import {isUuid, SCHEMA} from './domain.js'
import {addOrders} from './repository.js'
import {customerEvent} from './service.js'

/** The RabbitMQ queue (before namespacing) and the idempotency ledger's consumer name. */
export const ORDER_EVENTS_QUEUE = 'customer.order-events'
const CONSUMER = 'customer.order-events'

/** Parses the body of PLATFORM.md §3.3; anything else can never succeed, so it is poison. */
export const parseOrderCreated = (content: Buffer, properties?: amqp.MessageProperties): OrderCreatedMessage => {
  let body: unknown
  const text = jsonBodyText(content, properties)
  try {
    body = JSON.parse(text)
  } catch {
    throw new PoisonMessageError('message body is not JSON')
  }
  const m = body as Partial<OrderCreatedMessage> | null
  if (typeof m !== 'object' || m === null || Array.isArray(m)) throw new PoisonMessageError('message body is not a JSON object')
  if (m.event !== 'order_created') throw new PoisonMessageError(`event must be "order_created" (got ${JSON.stringify(m.event)})`)
  const data = m.data as Partial<OrderCreatedMessage['data']> | undefined
  if (typeof data !== 'object' || data === null) throw new PoisonMessageError('data is missing')
  if (typeof data.order_id !== 'string' || data.order_id.trim() === '' || data.order_id.length > 200)
    throw new PoisonMessageError('data.order_id must be a non-empty string')
  const fault = textFault(data.order_id)
  if (fault) throw new PoisonMessageError(`data.order_id ${fault}`)
  if (!isUuid(data.customer_id)) throw new PoisonMessageError('data.customer_id must be a uuid')
  return {event: 'order_created', data: {order_id: data.order_id, customer_id: data.customer_id}, timestamp: String(m.timestamp ?? '')}
}

export interface OrderEventsDeps {
  pool: pg.Pool
  cache: CustomerCache
  ns: Namespace
  logger: Logger
  feed: (entry: {type: string; id?: string; outcome: 'handled'; detail?: string}) => void
}

/**
 * One more order for each customer, exactly once per order id, a batch at a time: the ledger
 * entries, the increments (one per customer, however many of its orders the batch holds) and one
 * customer.updated per customer commit together; the cache keys go after the commit (also on a
 * redelivery, in case the first attempt failed between the commit and the delete).
 */
export const handleOrdersCreated =
  (deps: OrderEventsDeps) =>
  async (msgs: amqp.ConsumeMessage[]): Promise<void> => {
    const orders = msgs.map((m) => parseOrderCreated(m.content, m.properties).data)
    const {fresh, known} = await withTransaction(deps.pool, async (client) => {
      const fresh = await markProcessedMany(
        client,
        SCHEMA,
        CONSUMER,
        orders.map((o) => o.order_id),
      )
      const counts = new Map<string, number>()
      for (const o of orders) if (fresh.has(o.order_id)) counts.set(o.customer_id, (counts.get(o.customer_id) ?? 0) + 1)
      const rows = counts.size > 0 ? await addOrders(client, counts) : []
      await appendOutbox(
        client,
        SCHEMA,
        rows.map((row) => customerEvent(deps.ns, 'customer.updated', row)),
      )
      return {fresh, known: new Set(rows.map((r) => r.id))}
    })
    const outcome = (o: (typeof orders)[number]) => (!fresh.has(o.order_id) ? 'duplicate' : known.has(o.customer_id) ? 'counted' : 'unknown_customer')
    for (const o of orders) {
      if (outcome(o) === 'unknown_customer') deps.logger.warn('customer.order_for_unknown_customer', {order_id: o.order_id, customer_id: o.customer_id})
      if (outcome(o) === 'duplicate') deps.logger.debug('customer.order_already_counted', {order_id: o.order_id})
    }
    await deps.cache.drop(...new Set(orders.filter((o) => outcome(o) !== 'unknown_customer').map((o) => o.customer_id)))
    for (const o of orders) deps.feed({type: 'order.created', id: o.order_id, outcome: 'handled', detail: outcome(o)})
  }
