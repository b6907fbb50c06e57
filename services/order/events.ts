import type {Namespace} from '../shared/naming.js'
import {newEnvelope} from '../shared/envelope.js'
import type {OrderCreatedMessage} from '../shared/events.js'
import {kafkaMessage, type OutboxMessage} from '../shared/outbox.js'
import {EVENT_TYPE} from './domain.js'
import {type Order, orderData} from './repository.js'

/**
 * The outbox messages for an order that just entered its current status: the domain event on the
 * Kafka topic of its type (namespaced), with the full OrderData and aggregate_version = order
 * version; on creation also the RabbitMQ `order.created` message of PLATFORM.md §3.3, which the
 * relay publishes only after the transaction committed, with the event id as AMQP message-id.
 */
export const orderEvents = (order: Order, ns: Namespace): OutboxMessage[] => {
  const envelope = newEnvelope(EVENT_TYPE[order.status], order.id, order.version, {...orderData(order)})
  const messages: OutboxMessage[] = [kafkaMessage(envelope, ns)]
  if (order.status === 'PENDING') {
    const body: OrderCreatedMessage = {event: 'order_created', data: {order_id: order.id, customer_id: order.customer_id}, timestamp: envelope.occurred_at}
    messages.push({
      destination: 'rabbitmq',
      topic: `${ns('events')}:order.created`,
      key: order.id,
      value: JSON.stringify(body),
      headers: {'message-id': envelope.event_id},
    })
  }
  return messages
}
