import type {ComponentTopology} from '../shared/topology.js'
import {ORDER_EVENTS_QUEUE} from './order-events.js'

/** customer (PLATFORM.md §3.1): publishes customer.*; consumes order.created from RabbitMQ. */
export const customerTopology: ComponentTopology = {
  kafkaTopics: [
    {name: 'customer.created', partitions: 3},
    {name: 'customer.updated', partitions: 3},
  ],
  rabbitExchanges: [{name: 'events', type: 'topic'}],
  rabbitQueues: [{name: ORDER_EVENTS_QUEUE, bindings: [{exchange: 'events', routingKey: 'order.created'}]}],
  migrations: ['customer'],
}
