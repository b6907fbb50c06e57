import pg from 'pg'

import type {Endpoints} from '../../infra/types.js'
import {SPAN_SCHEMA, spanStoreExists, summarizeTraces, type TraceSummary} from '../../telemetry/spans.js'

/** The window and the length of the dashboard's Traces panel: the last 5 minutes, 5 failed and 5 slowest. */
export const RECENT_TRACES = {windowMs: 5 * 60_000, limit: 5} as const

/** A trace of the Traces panel as `mm dash --json` prints it: its summary, the component it started in, its first error. */
export interface RecentTrace extends TraceSummary {
  /** The component of its earliest span that names one (where the trace started: `order` for POST /orders). */
  component: string | null
  /** Its earliest failed span (null when none failed, or that span has expired). */
  error: {span: string; message: string} | null
}

/** The Traces panel's data: the failed and the slowest traces that started within the window, slowest first. */
export interface RecentTraceList {
  windowMs: number
  since: string
  /** False when no span store exists yet (tracing off, or nothing traced yet). */
  stored: boolean
  failed: RecentTrace[]
  slowest: RecentTrace[]
  /** Why the store could not be read (the lists are then empty). */
  error?: string
}

interface TraceDetail {
  trace_id: string
  component: string | null
  error_span: string | null
  error: string | null
}

export const toRecentTrace = (t: TraceSummary, d: TraceDetail | undefined): RecentTrace => ({
  traceId: t.traceId,
  root: t.root,
  component: d?.component ?? null,
  components: t.components,
  aggregateId: t.aggregateId,
  startedAt: t.startedAt,
  durationMs: t.durationMs,
  spans: t.spans,
  failed: t.failed,
  error: d?.error_span ? {span: d.error_span, message: d.error ?? 'error'} : null,
})

/**
 * The failed and the slowest recent traces, as the Traces panel lists them, each with the component
 * it started in and its first error: one more query over the spans of those few traces (by the
 * primary key), made for `mm dash --json` only, never by the panel's poll.
 */
export const recentTraces = async (deps: {endpoints: Endpoints}, o: {windowMs: number; limit: number} = RECENT_TRACES): Promise<RecentTraceList> => {
  const sinceMs = Date.now() - o.windowMs
  const base = {windowMs: o.windowMs, since: new Date(sinceMs).toISOString()}
  const client = new pg.Client({connectionString: deps.endpoints.postgres, application_name: 'mm-dash', connectionTimeoutMillis: 5000})
  client.on('error', () => {}) // a dropped connection fails the query in flight; nothing else to tell
  await client.connect()
  try {
    if (!(await spanStoreExists(client))) return {...base, stored: false, failed: [], slowest: []}
    const sinceUs = sinceMs * 1000
    const failed = await summarizeTraces(client, {sinceUs, limit: o.limit, failedOnly: true})
    const slowest = await summarizeTraces(client, {sinceUs, limit: o.limit, failedOnly: false})
    const ids = [...new Set([...failed, ...slowest].map((t) => t.traceId))]
    const {rows} = await client.query<TraceDetail>(
      `SELECT trace_id,
              (array_agg(component ORDER BY start_us, span_id) FILTER (WHERE component IS NOT NULL))[1] AS component,
              (array_agg(name ORDER BY start_us, span_id) FILTER (WHERE status = 2))[1] AS error_span,
              (array_agg(coalesce(error, 'error') ORDER BY start_us, span_id) FILTER (WHERE status = 2))[1] AS error
       FROM ${SPAN_SCHEMA}.spans WHERE trace_id = ANY($1::text[]) GROUP BY trace_id`,
      [ids],
    )
    const details = new Map(rows.map((r) => [r.trace_id, r]))
    const describe = (t: TraceSummary) => toRecentTrace(t, details.get(t.traceId))
    return {...base, stored: true, failed: failed.map(describe), slowest: slowest.map(describe)}
  } finally {
    await client.end().catch(() => {})
  }
}
