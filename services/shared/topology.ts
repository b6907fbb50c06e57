import type {Namespace} from './naming.js'

/**
 * What a component needs to exist before it starts (PLATFORM.md §3, §4): each component declares
 * its own (services/<component>/topology.ts); mm combines them and applies the result,
 * idempotently, before any runner starts (src/infra/topology).
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

export interface RabbitExchange {
  name: string
  type: 'topic' | 'direct' | 'fanout'
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
  rabbitExchanges: RabbitExchange[]
  /** Every queue gets a dead-letter exchange `<name>.dlx` and a `<name>.dlq` queue bound to it. */
  rabbitQueues: RabbitQueue[]
  mongoDatabase: string
  mongoIndexes: MongoIndex[]
  /** Components whose `services/<component>/migrations/*.sql` are applied, in this order. */
  migrations: string[]
}

/** One component's part: the topics it publishes, the queues it consumes, its indexes and migrations. */
export type ComponentTopology = Partial<Topology>

/** The platform's Mongo database: the query component's read model (PLATFORM.md §3.4). */
export const MONGO_DATABASE = 'mercadomio'

/** The components' parts as one topology: lists concatenated in component order, names declared twice (a shared exchange) once. */
export const combineTopologies = (parts: ComponentTopology[]): Topology => {
  const unique = <T extends {name: string}>(items: T[]): T[] => [...new Map(items.map((i) => [i.name, i])).values()]
  return {
    kafkaTopics: unique(parts.flatMap((p) => p.kafkaTopics ?? [])),
    rabbitExchanges: unique(parts.flatMap((p) => p.rabbitExchanges ?? [])),
    rabbitQueues: unique(parts.flatMap((p) => p.rabbitQueues ?? [])),
    mongoDatabase: MONGO_DATABASE,
    mongoIndexes: unique(parts.flatMap((p) => p.mongoIndexes ?? [])),
    migrations: [...new Set(parts.flatMap((p) => p.migrations ?? []))],
  }
}

/** The same topology with every broker name and the Mongo database passed through `ns`. */
export const namespacedTopology = (t: Topology, ns: Namespace): Topology => ({
  kafkaTopics: t.kafkaTopics.map((k) => ({...k, name: ns(k.name)})),
  rabbitExchanges: t.rabbitExchanges.map((e) => ({...e, name: ns(e.name)})),
  rabbitQueues: t.rabbitQueues.map((q) => ({name: ns(q.name), bindings: q.bindings.map((b) => ({...b, exchange: ns(b.exchange)}))})),
  mongoDatabase: ns(t.mongoDatabase),
  mongoIndexes: t.mongoIndexes,
  migrations: t.migrations,
})
