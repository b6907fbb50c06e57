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

/** Every domain event type is a Kafka topic of its own (PLATFORM.md §4). */
export const DOMAIN_TOPICS = [
  'customer.created',
  'customer.updated',
  'product.created',
  'product.updated',
  'order.created',
  'order.reserved',
  'order.paid',
  'order.canceled',
  'stock.reserved',
  'stock.rejected',
  'stock.released',
] as const

export const TOPOLOGY: Topology = {
  kafkaTopics: DOMAIN_TOPICS.map((name) => ({name, partitions: 3})),
  rabbitExchanges: [{name: 'events', type: 'topic'}],
  rabbitQueues: [
    {name: 'customer.order-events', bindings: [{exchange: 'events', routingKey: 'order.created'}]},
    {name: 'pulses', bindings: []},
  ],
  mongoDatabase: 'mercadomio',
  mongoIndexes: [
    {collection: 'orders_view', keys: {'customer.id': 1, created_at: -1}, name: 'by_customer_newest'},
    {collection: 'orders_view', keys: {status: 1, created_at: -1}, name: 'by_status_newest'},
    {collection: 'orders_view', keys: {created_at: -1}, name: 'newest'},
    {collection: 'orders_view', keys: {'items.product_id': 1}, name: 'by_item_product'},
    {collection: 'products_view', keys: {sku: 1}, name: 'by_sku'},
    {collection: 'customers_view', keys: {email: 1}, name: 'by_email'},
  ],
  migrations: ['customer', 'product', 'order', 'ingest'],
}

/**
 * Names of topics, queues, exchanges, consumer groups, Redis keys and the Mongo database pass
 * through a namespace: empty in production (the contract's names exactly), a per-file prefix in
 * integration tests so files never see each other's messages.
 */
export type Namespace = (name: string) => string
export const rootNamespace: Namespace = (name) => name
export const prefixNamespace =
  (prefix: string): Namespace =>
  (name) =>
    `${prefix}${name}`

export const namespacedTopology = (t: Topology, ns: Namespace): Topology => ({
  kafkaTopics: t.kafkaTopics.map((k) => ({...k, name: ns(k.name)})),
  rabbitExchanges: t.rabbitExchanges.map((e) => ({...e, name: ns(e.name)})),
  rabbitQueues: t.rabbitQueues.map((q) => ({name: ns(q.name), bindings: q.bindings.map((b) => ({...b, exchange: ns(b.exchange)}))})),
  mongoDatabase: ns(t.mongoDatabase),
  mongoIndexes: t.mongoIndexes,
  migrations: t.migrations,
})
