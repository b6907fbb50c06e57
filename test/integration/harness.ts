import {mkdirSync, mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import type {Consumer, Kafka, KafkaMessage} from 'kafkajs'
import {inject} from 'vitest'

import {type Config, loadConfig} from '../../src/config/index.js'
import {applyTopology} from '../../src/infra/topology/apply.js'
import {namespacedTopology, type Namespace, prefixNamespace, TOPOLOGY} from '../../src/infra/topology/spec.js'
import type {Endpoints} from '../../src/infra/types.js'
import {createLogger, fileSink, type Logger} from '../../src/lib/logger.js'
import {untilAborted} from '../../src/lib/proc.js'
import {startPlatform, type PlatformHost} from '../../src/runtime/host.js'
import {type ComponentConfig, emptyCounters, type Runner, type RunningRunner} from '../../src/runtime/runner.js'
import {createCustomerRunner} from '../../services/customer/index.js'
import {createIngestRunner} from '../../services/ingest/index.js'
import {createOrderRunner} from '../../services/order/index.js'
import {createProductRunner} from '../../services/product/index.js'
import {createQueryRunner} from '../../services/query/index.js'
import {type ComponentDeps, serverClients} from '../../services/shared/component.js'
import {isolatedEndpoints, uniqueName} from './isolation.js'

export {eventually, http} from '../support/poll.js'

export interface TestPlatform {
  /** Base URL of the gateway serving the started runners. */
  url: string
  endpoints: Endpoints & {name: string}
  ns: Namespace
  config: Config
  host: PlatformHost
  logger: Logger
  logFile: string
  stop(): Promise<void>
}

/**
 * What the tests' runners are built with (`createOrderRunner(TEST_DEPS)`): short retries, no
 * scheduled flush within a test (POST /ingest/flush does it), the clients of the real servers.
 */
export const TEST_DEPS = {
  config: {retryBackoffMs: [20, 40, 80], ingestFlushIntervalMs: 3_600_000},
  clients: serverClients,
} as const satisfies ComponentDeps<ComponentConfig>

/** The five components, each built with TEST_DEPS. */
export const allRunners = (): Runner[] => [
  createCustomerRunner(TEST_DEPS),
  createProductRunner(TEST_DEPS),
  createOrderRunner(TEST_DEPS),
  createQueryRunner(TEST_DEPS),
  createIngestRunner(TEST_DEPS),
]

/**
 * Starts the given runners against the run's real servers, isolated for this test file: its own
 * PostgreSQL database (migrations applied), and a name prefix for topics, queues, exchanges,
 * consumer groups, Redis keys and the Mongo database (topology applied under it).
 */
export const startTestPlatform = async (opts: {label: string; runners: Runner[]; env?: Record<string, string>}): Promise<TestPlatform> => {
  const endpoints = await isolatedEndpoints(opts.label)
  const ns = prefixNamespace(`${uniqueName(opts.label)}_`)
  const logDir = join(inject('dataDir'), 'logs')
  mkdirSync(logDir, {recursive: true})
  const logFile = join(logDir, `${endpoints.name}.log`)
  const logger = createLogger(fileSink(logFile), 'debug')
  await applyTopology(endpoints, namespacedTopology(TOPOLOGY, ns), logger.child('topology'))
  const config = loadConfig({
    cwd: mkdtempSync(join(tmpdir(), 'mm-it-cfg-')),
    env: {MM_HTTP_PORT: '0', ...opts.env},
  })
  const host = await startPlatform({config, endpoints, logger, runners: opts.runners, ns, port: 0})
  return {url: host.gateway.url, endpoints, ns, config, host, logger, logFile, stop: () => host.stop()}
}

/** Every message seen on the given topics since the start, in arrival order (a fresh group). */
export const collectTopics = async (kafka: Kafka, topics: string[]): Promise<{seen: {topic: string; message: KafkaMessage}[]; consumer: Consumer}> => {
  const seen: {topic: string; message: KafkaMessage}[] = []
  const consumer = kafka.consumer({groupId: uniqueName('it-collector'), maxWaitTimeInMs: 100})
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()))
  await consumer.connect()
  await consumer.subscribe({topics, fromBeginning: true})
  await consumer.run({eachMessage: async ({topic, message}) => void seen.push({topic, message})})
  await joined
  return {seen, consumer}
}

export const json = (m: KafkaMessage) => JSON.parse(m.value!.toString())
export const header = (m: KafkaMessage, name: string) => m.headers?.[name]?.toString()

/** A runner that only serves HTTP routes in the test gateway (stand-ins for other components). */
export const routesRunner = (name: string, routes: NonNullable<RunningRunner['routes']>): Runner => ({
  name,
  start: async (ctx) => ({stopped: untilAborted(ctx.signal), counters: emptyCounters, routes}),
})
