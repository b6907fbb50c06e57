import {customerTopology} from '../../../services/customer/topology.js'
import {ingestTopology} from '../../../services/ingest/topology.js'
import {orderTopology} from '../../../services/order/topology.js'
import {productTopology} from '../../../services/product/topology.js'
import {queryTopology} from '../../../services/query/topology.js'
import {combineTopologies, type Topology} from '../../../services/shared/topology.js'

/**
 * The platform's topology: what `mm up` creates, idempotently, before any runner starts. Each
 * component declares its own part (services/<component>/topology.ts); this only combines them.
 */
export {DLQ_SUFFIX, dlqOf, dlxOf, type Namespace, prefixNamespace, rootNamespace} from '../../../services/shared/naming.js'
export {type KafkaTopic, type MongoIndex, namespacedTopology, type RabbitQueue, type Topology} from '../../../services/shared/topology.js'

export const TOPOLOGY: Topology = combineTopologies([customerTopology, productTopology, orderTopology, queryTopology, ingestTopology])

/** Every domain event type is a Kafka topic of its own (PLATFORM.md §4). */
export const DOMAIN_TOPICS: readonly string[] = TOPOLOGY.kafkaTopics.map((t) => t.name)
