import type {ComponentTopology} from '../shared/topology.js'

/** order (PLATFORM.md §3.3): publishes order.* to Kafka, and order.created to RabbitMQ exchange `events`. */
export const orderTopology: ComponentTopology = {
  kafkaTopics: ['order.created', 'order.reserved', 'order.paid', 'order.canceled'].map((name) => ({name, partitions: 3})),
  rabbitExchanges: [{name: 'events', type: 'topic'}],
  migrations: ['order'],
}
