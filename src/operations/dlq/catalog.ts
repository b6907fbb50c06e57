import {dlqOf, type Namespace, rootNamespace, TOPOLOGY, type Topology} from '../../infra/topology/spec.js'
import type {Endpoints} from '../../infra/types.js'
import {UsageError} from '../../lib/errors.js'
import type {Logger} from '../../lib/logger.js'

export type Broker = 'kafka' | 'rabbitmq'

/** One dead-letter queue of the topology: a Kafka `<topic>.dlq` topic or a RabbitMQ `<queue>.dlq` queue. */
export interface DlqEntry {
  /** Name on its broker (namespaced). */
  name: string
  broker: Broker
  /** The topic or queue it belongs to (namespaced): where its messages are replayed by default. */
  source: string
  /** Name without the namespace, used to derive the replay group and transactional id. */
  base: string
}

/** What every DLQ operation needs; `ns` lets integration tests work on a prefixed topology. */
export interface DlqDeps {
  endpoints: Endpoints
  ns?: Namespace
  logger: Logger
  topology?: Topology
}

export const dlqCatalog = (ns: Namespace = rootNamespace, topology: Topology = TOPOLOGY): DlqEntry[] => [
  ...topology.kafkaTopics.map((t) => ({name: ns(dlqOf(t.name)), broker: 'kafka' as const, source: ns(t.name), base: dlqOf(t.name)})),
  ...topology.rabbitQueues.map((q) => ({name: ns(dlqOf(q.name)), broker: 'rabbitmq' as const, source: ns(q.name), base: dlqOf(q.name)})),
]

/** Accepts the DLQ's name or the name of the topic/queue it belongs to; anything else is a usage error. */
export const resolveDlq = (name: string, catalog: DlqEntry[]): DlqEntry => {
  const found = catalog.filter((e) => e.name === name)
  const matches = found.length > 0 ? found : catalog.filter((e) => e.source === name)
  if (matches.length === 1) return matches[0]!
  if (matches.length > 1) throw new UsageError(`"${name}" names DLQs on both brokers`, `one of: ${matches.map((m) => `${m.name} (${m.broker})`).join(', ')}`)
  throw new UsageError(`unknown DLQ "${name}"`, `known DLQs: ${catalog.map((e) => e.name).join(', ')} (mm dlq list shows them)`)
}

/**
 * The consumer group whose committed offsets mark how far a Kafka DLQ has been replayed or purged,
 * and the transactional id every replay/purge of that DLQ uses (so a new one fences an old one).
 */
export const replayGroupOf = (entry: Pick<DlqEntry, 'base'>, ns: Namespace = rootNamespace): string => ns(`mm.dlq-replay.${entry.base}`)
export const transactionalIdOf = (entry: Pick<DlqEntry, 'base'>, ns: Namespace = rootNamespace): string => ns(`mm.dlq-replay.${entry.base}`)
