/**
 * The declarative topology of the platform: what `mm up` creates, idempotently, before any runner
 * starts. Components add their items here (PLATFORM.md §3, §4).
 */
export interface KafkaTopic {
  name: string
  partitions: number
}

export interface RabbitQueue {
  name: string
  /** Bindings to topic exchanges. */
  bindings: {exchange: string; routingKey: string}[]
}

export interface MongoIndex {
  collection: string
  keys: Record<string, 1 | -1>
  unique?: boolean
  name: string
}

export interface Topology {
  /** Every topic gets a `<name>.dlq` twin. */
  kafkaTopics: KafkaTopic[]
  rabbitExchanges: {name: string; type: 'topic' | 'direct' | 'fanout'}[]
  /** Every queue gets a dead-letter exchange `<name>.dlx` and a `<name>.dlq` queue bound to it. */
  rabbitQueues: RabbitQueue[]
  mongoDatabase: string
  mongoIndexes: MongoIndex[]
  /** Components whose `services/<component>/migrations/*.sql` are applied, in this order. */
  migrations: string[]
}

export const DLQ_SUFFIX = '.dlq'
export const dlqOf = (name: string): string => `${name}${DLQ_SUFFIX}`
export const dlxOf = (queue: string): string => `${queue}.dlx`

export const TOPOLOGY: Topology = {
  kafkaTopics: [{name: 'order.created', partitions: 3}],
  rabbitExchanges: [{name: 'events', type: 'topic'}],
  rabbitQueues: [
    {name: 'customer.order-events', bindings: [{exchange: 'events', routingKey: 'order.created'}]},
    {name: 'pulses', bindings: []},
  ],
  mongoDatabase: 'mercadomio',
  mongoIndexes: [{collection: 'orders_view', keys: {'customer.id': 1, created_at: -1}, name: 'by_customer_newest'}],
  migrations: ['ingest'],
}
