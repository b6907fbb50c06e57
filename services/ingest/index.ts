import {type ComponentConfig, DEFAULT_COMPONENT_CONFIG, type Runner} from '../shared/runner.js'
import {type ComponentDeps, defineComponent, serverClients} from '../shared/component.js'
import {startPulseConsumer} from './consumer.js'
import {flushNow} from './flush.js'
import {ingestRoutes} from './routes.js'
import {ingestStatus, runFlushSchedule} from './schedule.js'
import {PULSES_QUEUE} from './topology.js'

export {PULSES_PREFETCH} from './consumer.js'
export {PULSES_QUEUE} from './topology.js'
export {flushNow, type FlushHooks, type FlushResult} from './flush.js'
export {ingestStatus, type IngestStatus} from './schedule.js'

/** What ingest is built with: the retries of its consumer, how often it flushes, and its clients. */
export type IngestDeps = ComponentDeps<Pick<ComponentConfig, 'retryBackoffMs' | 'ingestFlushIntervalMs'>>

/**
 * ingest (PLATFORM.md §3.5): usage pulses from RabbitMQ `pulses`, aggregated exactly in Redis,
 * flushed exactly once to `ingest.pulses` every MM_INGEST_FLUSH_INTERVAL and on demand. Without
 * deps (the benchmark's call): mm's default settings and the real clients.
 */
export const createIngestRunner = ({config, clients}: IngestDeps = {config: DEFAULT_COMPONENT_CONFIG, clients: serverClients}): Runner =>
  defineComponent('ingest', {postgres: true, rabbitmq: true}, clients, async (kit, ctx) => {
    const flush = () => flushNow({pool: kit.pool, redis: kit.redis, ns: ctx.ns, logger: kit.logger})
    const consumer = await startPulseConsumer(
      {rabbit: kit.rabbit, redis: kit.redis, ns: ctx.ns, backoffMs: config.retryBackoffMs, logger: kit.logger, stats: kit.counters, feed: kit.feed, flush},
      ctx.signal,
    )
    const schedule = runFlushSchedule({
      flush,
      redis: kit.redis,
      ns: ctx.ns,
      intervalMs: config.ingestFlushIntervalMs,
      signal: ctx.signal,
      logger: kit.logger,
    })
    return {
      routes: ingestRoutes({pool: kit.pool, flush, status: (top) => ingestStatus(kit.redis, ctx.ns, top)}),
      tasks: [consumer.stopped, schedule],
      info: () => ({queue: ctx.ns(PULSES_QUEUE), flushIntervalMs: config.ingestFlushIntervalMs}),
    }
  })
