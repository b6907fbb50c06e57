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

/** Every Kafka topic and RabbitMQ queue has a dead-letter twin `<name>.dlq` (PLATFORM.md §4). */
export const DLQ_SUFFIX = '.dlq'
export const dlqOf = (name: string): string => `${name}${DLQ_SUFFIX}`
/** The dead-letter exchange of a RabbitMQ queue. */
export const dlxOf = (queue: string): string => `${queue}.dlx`
