import type amqp from 'amqplib'
import type {Admin, Kafka} from 'kafkajs'

import type {Config} from '../../config/index.js'
import {requireEndpoints as requirePlatform} from '../../infra/platform.js'
import {rootNamespace, type Namespace} from '../../infra/topology/spec.js'
import type {Endpoints} from '../../infra/types.js'
import {unreachable} from '../../lib/errors.js'
import type {Logger} from '../../lib/logger.js'
import {maskUrl} from '../../lib/urls.js'
import {dlqCatalog, type DlqDeps, type DlqEntry, resolveDlq} from './catalog.js'
import {dlqKafka} from './kafka-read.js'
import {connectDlqRabbit} from './rabbit.js'

export interface KafkaConn {
  kafka: Kafka
  admin: Admin
  ns: Namespace
  logger: Logger
}

/** A Kafka client and a connected admin for the work, closed afterwards. */
export const withKafka = async <T>(deps: DlqDeps, work: (k: KafkaConn) => Promise<T>): Promise<T> => {
  const logger = deps.logger.child('dlq')
  const kafka = dlqKafka(deps.endpoints, logger)
  const admin = kafka.admin()
  try {
    await admin.connect()
  } catch (error) {
    throw unreachable(`Kafka at ${deps.endpoints.kafka.join(',')}`, error)
  }
  try {
    return await work({kafka, admin, ns: deps.ns ?? rootNamespace, logger})
  } finally {
    await admin.disconnect().catch(() => {})
  }
}

export const withRabbit = async <T>(deps: DlqDeps, work: (conn: amqp.ChannelModel) => Promise<T>): Promise<T> => {
  let conn: amqp.ChannelModel
  try {
    conn = await connectDlqRabbit(deps.endpoints.rabbitmq, deps.logger.child('dlq'))
  } catch (error) {
    throw unreachable(`RabbitMQ at ${maskUrl(deps.endpoints.rabbitmq)}`, error)
  }
  try {
    return await work(conn)
  } finally {
    await conn.close().catch(() => {})
  }
}

export const entryFor = (deps: DlqDeps, name: string): DlqEntry => resolveDlq(name, dlqCatalog(deps.ns, deps.topology))

/** The servers of the running platform (or of MM_* URLs); a clear error when there is none. */
export const requireEndpoints = (config: Config, logger: Logger): Promise<Endpoints> =>
  requirePlatform(config, logger, 'no DLQ to reach', 'start it with mm up (or point MM_KAFKA_BROKERS and MM_RABBITMQ_URL at running brokers)')
