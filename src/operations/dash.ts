import {Redis} from 'ioredis'
import pg from 'pg'

import {EVENTS_CHANNEL, type FeedEntry, parseFeed} from '../../services/shared/events-feed.js'
import type {Config} from '../config/index.js'
import {resolveEndpoints} from '../infra/platform.js'
import type {Endpoints} from '../infra/types.js'
import {formatDuration} from '../lib/duration.js'
import type {Logger} from '../lib/logger.js'
import {type Collector, createCollector} from './collectors/index.js'
import {RECENT_TRACES} from './collectors/traces.js'
import {replayDlq} from './dlq/index.js'
import {flush} from './flush.js'
import {rebuildProjections, type RebuildProgressEvent, verifyProjections, type VerifyResult} from './projections/index.js'
import {collectStatus, type PlatformStatus} from './status.js'
import {traceOf, type TraceResult} from './trace.js'
import {spanStoreExists, summarizeTraces, type TraceSummary} from '../telemetry/spans.js'

/** What the dashboard reads and does; the same collectors as `mm status --json`. */
export interface DashSource {
  status(): Promise<PlatformStatus>
  subscribe(onEntry: (e: FeedEntry) => void, onState: (connected: boolean, error?: string) => void): () => void
  flush(): Promise<string>
  replay(dlq: string): Promise<string>
  /** `mm projections verify` / `rebuild --yes` (the dashboard asked first); the result in one line. */
  verify(onProgress?: (p: RebuildProgressEvent) => void): Promise<Outcome>
  rebuild(onProgress?: (p: RebuildProgressEvent) => void): Promise<Outcome>
  /** The slowest and the failed traces of the last minutes, for the Traces panel. */
  traces(): Promise<RecentTraces>
  /** One trace, as `mm trace <trace-id> --json`. */
  trace(traceId: string): Promise<TraceResult>
  close(): Promise<void>
}

export interface RecentTraces {
  slowest: TraceSummary[]
  failed: TraceSummary[]
  /** False until the runners stored a span (tracing off, or nothing traced yet). */
  stored: boolean
}

/** A one-line result and whether it is good news. */
export interface Outcome {
  text: string
  ok: boolean
}

/** What the dashboard says about a verify: the verdict and where the differences are. */
export const verifySummary = (r: VerifyResult): string => {
  if (r.interrupted) return 'verify interrupted'
  const where = r.views.filter((v) => v.differing + v.missing + v.extra > 0).map((v) => `${v.view} ${v.differing + v.missing + v.extra}`)
  const lag = r.catchUp.caughtUp ? '' : ' (the read model had not caught up)'
  return r.ok
    ? `verify: no differences in ${r.rows} documents (${formatDuration(r.durationMs)})${lag}`
    : `verify: ${r.total} difference(s) — ${where.join(', ')}${lag}; mm projections verify lists them`
}

/** How long the dashboard's verify waits for the read model before comparing anyway. */
const DASH_CATCH_UP_MS = 30_000

export const createDashSource = (config: Config, logger: Logger, {projectionsWaitMs}: {projectionsWaitMs?: number} = {}): DashSource => {
  // Verify and rebuild run in this process: quitting aborts them (a rebuild before its swap leaves
  // the views untouched) and close() waits for them to stop.
  const actions = new AbortController()
  const running = new Set<Promise<unknown>>()
  const track = <T>(work: Promise<T>): Promise<T> => {
    running.add(work)
    return work.finally(() => running.delete(work))
  }
  const endpointsOrFail = async () => {
    const endpoints = await resolveEndpoints(config, logger)
    if (!endpoints) throw new Error('the platform is not running')
    return endpoints
  }
  // After close() nothing opens a connection again: a refresh still in flight when the dashboard
  // quits must not leave a new collector or pool behind it (the process would never exit).
  let closed = false
  const ensureOpen = () => {
    if (closed) throw new Error('the dashboard is closed')
  }
  // One collector, kept open between refreshes; rebuilt if the platform moved (new ports).
  let current: {key: string; collector: Collector} | undefined
  const collectorFor = async (): Promise<Collector | undefined> => {
    const endpoints = await resolveEndpoints(config, logger).catch(() => undefined)
    ensureOpen()
    if (!endpoints) return undefined
    const key = JSON.stringify(endpoints)
    if (current?.key !== key) {
      await current?.collector.close()
      current = {key, collector: createCollector(endpoints, logger, undefined, {projectionsWaitMs})}
    }
    return current.collector
  }

  // The span store's own small pool, rebuilt with the collector's endpoints.
  let store: {key: string; pool: pg.Pool} | undefined
  const storeFor = async (): Promise<pg.Pool> => {
    const endpoints = await endpointsOrFail()
    ensureOpen()
    const key = endpoints.postgres
    if (store?.key !== key) {
      await store?.pool.end().catch(() => {})
      const pool = new pg.Pool({connectionString: key, max: 1, application_name: 'mm-dash'})
      pool.on('error', (error) => logger.debug('dash.trace_store_error', {error: error.message}))
      store = {key, pool}
    }
    return store.pool
  }

  return {
    async traces() {
      const pool = await storeFor()
      if (!(await spanStoreExists(pool))) return {slowest: [], failed: [], stored: false}
      const sinceUs = (Date.now() - RECENT_TRACES.windowMs) * 1000
      const [slowest, failed] = await Promise.all([
        summarizeTraces(pool, {sinceUs, limit: RECENT_TRACES.limit, failedOnly: false}),
        summarizeTraces(pool, {sinceUs, limit: RECENT_TRACES.limit, failedOnly: true}),
      ])
      return {slowest, failed, stored: true}
    },

    async trace(traceId) {
      return traceOf({endpoints: await endpointsOrFail(), logger}, traceId)
    },

    async status() {
      const collector = await collectorFor()
      return collectStatus(config, logger, collector)
    },

    subscribe(onEntry, onState) {
      let stopped = false
      let sub: Redis | undefined
      let retry: NodeJS.Timeout | undefined
      const connect = async () => {
        const endpoints: Endpoints | undefined = await resolveEndpoints(config, logger).catch(() => undefined)
        if (stopped) return
        if (!endpoints) {
          onState(false, 'platform not running')
          retry = setTimeout(() => void connect(), 2000)
          return
        }
        sub = new Redis(endpoints.redis, {maxRetriesPerRequest: null, retryStrategy: (n) => Math.min(n * 500, 3000)})
        sub.on('error', (error: Error) => onState(false, error.message))
        sub.on('ready', () => onState(true))
        sub.on('message', (_channel: string, text: string) => {
          for (const entry of parseFeed(text)) onEntry(entry)
        })
        await sub.subscribe(EVENTS_CHANNEL).catch((error: Error) => onState(false, error.message))
      }
      void connect()
      return () => {
        stopped = true
        clearTimeout(retry)
        sub?.disconnect()
      }
    },

    async flush() {
      const r = await flush(config, logger)
      return r.flushId === null && r.resumed.length === 0
        ? 'flush: nothing to flush'
        : `flushed ${r.keys} keys into ${r.rows} rows in ${formatDuration(r.durationMs)}`
    },

    async replay(dlq) {
      const endpoints = await resolveEndpoints(config, logger)
      if (!endpoints) throw new Error('the platform is not running')
      const r = await replayDlq({endpoints, logger, dlq, maxReplays: 3})
      return `replayed ${r.replayed} of ${r.dlq} (${r.skipped} skipped by the loop guard)`
    },

    async verify(onProgress) {
      const endpoints = await endpointsOrFail()
      const r = await track(verifyProjections({endpoints, logger}, {limit: 5, timeoutMs: DASH_CATCH_UP_MS, signal: actions.signal, onProgress}))
      return {text: verifySummary(r), ok: r.ok}
    },

    async rebuild(onProgress) {
      const endpoints = await endpointsOrFail()
      const r = await track(rebuildProjections({endpoints, logger}, {limit: 5, timeoutMs: DASH_CATCH_UP_MS, signal: actions.signal, onProgress}))
      if (r.interrupted) return {text: 'rebuild interrupted before the swap: the views are untouched', ok: false}
      const changed = r.views.reduce((n, v) => n + v.written + v.removed, 0)
      return {
        text: `rebuilt ${r.views.map((v) => v.view).join(', ')} from ${r.documents} documents in ${formatDuration(r.durationMs)} (${r.swap === 'rename' ? 'renamed in' : `${changed} changed`}); ${r.verify ? verifySummary(r.verify) : 'not verified'}`,
        ok: r.ok,
      }
    },

    async close() {
      closed = true
      actions.abort()
      await Promise.allSettled([...running])
      await current?.collector.close()
      await store?.pool.end().catch(() => {})
    },
  }
}
