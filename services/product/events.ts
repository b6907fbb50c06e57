import type {Namespace} from '../shared/naming.js'
import {newEnvelope} from '../shared/envelope.js'
import type {StockData, StockRejectedData} from '../shared/events.js'
import {kafkaMessage, type OutboxMessage} from '../shared/outbox.js'
import {type ProductRow, toProduct} from './domain.js'

/** `product.created` / `product.updated`: full state, the row's version, key = product id. */
export const productEvent = (ns: Namespace, type: 'product.created' | 'product.updated', row: ProductRow): OutboxMessage => {
  const envelope = newEnvelope(type, row.id, row.version, {...toProduct(row)})
  return kafkaMessage(envelope, ns)
}

/**
 * `stock.*` events belong to the order aggregate (key = order id). Their version is the version of
 * the order event they answer, so a projection can tell which order state they refer to.
 */
export const stockEvent = (
  ns: Namespace,
  type: 'stock.reserved' | 'stock.released' | 'stock.rejected',
  orderVersion: number,
  data: StockData | StockRejectedData,
): OutboxMessage => {
  const envelope = newEnvelope(type, data.order_id, orderVersion, {...data})
  return kafkaMessage(envelope, ns)
}
