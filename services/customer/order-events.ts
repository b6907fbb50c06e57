import type amqp from 'amqplib'
import type pg from 'pg'

import type {Namespace} from '../../src/infra/topology/spec.js'
import type {Logger} from '../../src/lib/logger.js'
import {markProcessed, withTransaction} from '../shared/db.js'
import {PoisonMessageError} from '../shared/errors.js'
import type {OrderCreatedMessage} from '../shared/events.js'
import type {CustomerCache} from './cache.js'
import {isUuid, SCHEMA} from './domain.js'
import {incrementOrdersCount} from './repository.js'
import {emitCustomerEvent} from './service.js'

/** The RabbitMQ queue (before namespacing) and the idempotency ledger's consumer name. */
export const ORDER_EVENTS_QUEUE = 'customer.order-events'
const CONSUMER = 'customer.order-events'

/** Parses the body of PLATFORM.md §3.3; anything else can never succeed, so it is poison. */
export const parseOrderCreated = (content: Buffer): OrderCreatedMessage => {
  let body: unknown
  try {
    body = JSON.parse(content.toString('utf8'))
  } catch {
    throw new PoisonMessageError('message body is not JSON')
  }
  const m = body as Partial<OrderCreatedMessage> | null
  if (typeof m !== 'object' || m === null || Array.isArray(m)) throw new PoisonMessageError('message body is not a JSON object')
  if (m.event !== 'order_created') throw new PoisonMessageError(`event must be "order_created" (got ${JSON.stringify(m.event)})`)
  const data = m.data as Partial<OrderCreatedMessage['data']> | undefined
  if (typeof data !== 'object' || data === null) throw new PoisonMessageError('data is missing')
  if (typeof data.order_id !== 'string' || data.order_id.trim() === '' || data.order_id.length > 200) throw new PoisonMessageError('data.order_id must be a non-empty string')
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
 * One more order for the customer, exactly once per order id: the ledger entry, the increment and
 * the customer.updated event commit together; the cache key goes after the commit (also on a
 * redelivery, in case the first attempt failed between the commit and the delete).
 */
export const handleOrderCreated = (deps: OrderEventsDeps) => async (msg: amqp.ConsumeMessage): Promise<void> => {
  const {data} = parseOrderCreated(msg.content)
  const outcome = await withTransaction(deps.pool, async (client) => {
    if (!(await markProcessed(client, SCHEMA, CONSUMER, data.order_id))) return 'duplicate' as const
    const row = await incrementOrdersCount(client, data.customer_id)
    if (!row) return 'unknown_customer' as const
    await emitCustomerEvent(client, deps.ns, 'customer.updated', row)
    return 'counted' as const
  })
  if (outcome === 'unknown_customer') {
    deps.logger.warn('customer.order_for_unknown_customer', {order_id: data.order_id, customer_id: data.customer_id})
  } else {
    await deps.cache.drop(data.customer_id)
  }
  if (outcome === 'duplicate') deps.logger.debug('customer.order_already_counted', {order_id: data.order_id})
  deps.feed({type: 'order.created', id: data.order_id, outcome: 'handled', detail: outcome})
}
