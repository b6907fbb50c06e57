import type {FastifyInstance} from 'fastify'

import type {Logger} from './logger.js'
import type {Namespace} from './naming.js'
import {emptyRoundTrips, type RoundTrips} from './round-trips.js'

/**
 * The contract between the platform's components and whoever runs them (mm's supervisor, `mm run`,
 * the integration tests): a component knows this module, never the CLI (ARCHITECTURE.md).
 */

/** Connection URLs of the five servers. */
export interface Endpoints {
  postgres: string
  redis: string
  rabbitmq: string
  rabbitmqManagement: string
  kafka: string[]
  mongo: string
}

/**
 * The settings components read; mm's Config has them all (src/config). Each component's factory
 * takes the slice it uses (ComponentDeps in component.ts), not the runner context.
 */
export interface ComponentConfig {
  /** Delays between a failing message's attempts; their count is the number of retries. */
  readonly retryBackoffMs: readonly number[]
  /** How often ingest flushes its Redis aggregates to PostgreSQL. */
  readonly ingestFlushIntervalMs: number
}

/** mm's defaults of these settings (src/config; test/unit/config.test.ts checks that they agree). */
export const DEFAULT_COMPONENT_CONFIG: ComponentConfig = Object.freeze({
  retryBackoffMs: Object.freeze([1000, 2000, 4000, 8000, 16_000]),
  ingestFlushIntervalMs: 3_600_000,
})

/** Counters every runner keeps; `mm status --json` and the dashboard show them. */
export interface RunnerCounters {
  handled: number
  failed: number
  retried: number
  deadLettered: number
  httpRequests: number
  /** Requests sent to each server (services/shared/round-trips.ts). */
  calls?: RoundTrips
}

export const emptyCounters = (): RunnerCounters => ({handled: 0, failed: 0, retried: 0, deadLettered: 0, httpRequests: 0, calls: emptyRoundTrips()})

export interface RunnerContext {
  /** Aborted when the runner must stop: finish in-flight work, then resolve `stopped`. */
  signal: AbortSignal
  logger: Logger
  endpoints: Endpoints
  /** Topic, queue, exchange, group, Redis key and Mongo database names go through this. */
  ns: Namespace
  /** The platform's HTTP API (the gateway), for calls between components. */
  api: PlatformApi
}

/**
 * Calls between components go through the platform's public HTTP API. In `mm up` every component
 * shares the process with the gateway, so requests are injected into it in memory (same routes,
 * validation and errors, no sockets); `mm run` alone uses real HTTP to the platform's gateway.
 */
export interface PlatformApi {
  url(): string
  get(path: string, timeoutMs: number): Promise<{status: number; body: unknown}>
}

export interface RunningRunner {
  /** Resolves once the runner has stopped (after its signal aborted, or on its own failure). */
  stopped: Promise<void>
  counters(): RunnerCounters
  /** Extra facts for status, e.g. the HTTP address. */
  info?(): Record<string, unknown>
  /** HTTP routes served by the gateway (or by `mm run` alone). */
  routes?: (app: FastifyInstance) => void | Promise<void>
}

/** A component: built by a factory with its ports injected, started by the supervisor. */
export interface Runner {
  name: string
  /** Resolves when ready (HTTP listening, consumers joined). */
  start(ctx: RunnerContext): Promise<RunningRunner>
}
