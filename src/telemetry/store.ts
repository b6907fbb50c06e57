import {context, type Link, SpanKind} from '@opentelemetry/api'
import {type ExportResult, ExportResultCode, hrTimeToMicroseconds, suppressTracing} from '@opentelemetry/core'
import type {ReadableSpan, SpanExporter} from '@opentelemetry/sdk-trace-base'
import pg from 'pg'

import type {Logger} from '../lib/logger.js'
import {deleteSpansBefore, ensureSpanTables, insertSpans, type SpanRow} from './spans.js'

/** Attributes kept in the store: mm's own and the semantic conventions the waterfall shows. */
const keep = (key: string): boolean =>
  key.startsWith('mm.') ||
  key.startsWith('messaging.') ||
  key.startsWith('http.') ||
  key.startsWith('url.') ||
  key.startsWith('db.') ||
  key === 'exception.message' ||
  key === 'error.type'

export const toSpanRow = (span: ReadableSpan): SpanRow => {
  const ctx = span.spanContext()
  const attributes: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(span.attributes)) if (v !== undefined && keep(k)) attributes[k] = v
  const exception = span.events.find((e) => e.name === 'exception')
  const error = span.status.code === 2 ? (span.status.message ?? String(exception?.attributes?.['exception.message'] ?? 'error')) : null
  const links = span.links.map((l: Link) => ({traceId: l.context.traceId, spanId: l.context.spanId, attributes: l.attributes}))
  return {
    trace_id: ctx.traceId,
    span_id: ctx.spanId,
    parent_id: span.parentSpanContext?.spanId ?? null,
    name: span.name.slice(0, 200),
    kind: span.kind ?? SpanKind.INTERNAL,
    component: typeof span.attributes['mm.component'] === 'string' ? span.attributes['mm.component'] : null,
    aggregate_id:
      typeof span.attributes['mm.aggregate_id'] === 'string' && span.attributes['mm.aggregate_id'] !== '' ? span.attributes['mm.aggregate_id'] : null,
    start_us: Math.round(hrTimeToMicroseconds(span.startTime)),
    duration_us: Math.max(0, Math.round(hrTimeToMicroseconds(span.duration))),
    status: span.status.code,
    error: error?.slice(0, 1000) ?? null,
    attributes,
    links: links.length > 0 ? links : null,
  }
}

/**
 * The exporter behind the span store: each batch the BatchSpanProcessor hands it is one INSERT on
 * its own small pool, under suppressTracing (the store's writes never make spans of their own).
 * Until a host configured it (the database is known only once the servers are up) it drops spans,
 * of which there are none: the sampler records nothing before that either.
 */
export class SpanStoreExporter implements SpanExporter {
  private pool: pg.Pool | undefined
  private logger: Logger | undefined
  private retentionMs = 3_600_000
  private sweeper: NodeJS.Timeout | undefined
  private warned = false

  async configure(o: {postgresUrl: string; retentionMs: number; logger: Logger}): Promise<void> {
    await this.closePool()
    this.logger = o.logger
    this.retentionMs = o.retentionMs
    const pool = new pg.Pool({connectionString: o.postgresUrl, max: 2, application_name: 'mm-trace-store'})
    pool.on('error', (error) => o.logger.debug('trace.store_error', {error: error.message}))
    await this.quiet(() => ensureSpanTables(pool))
    this.pool = pool
    // Retention: a sweep a minute (and one now), each one DELETE by the start-time index.
    const sweep = () => void this.quiet(() => deleteSpansBefore(pool, (Date.now() - this.retentionMs) * 1000)).catch(() => {})
    sweep()
    this.sweeper = setInterval(sweep, 60_000)
    this.sweeper.unref()
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    const pool = this.pool
    if (!pool) return done({code: ExportResultCode.SUCCESS})
    this.quiet(() => insertSpans(pool, spans.map(toSpanRow))).then(
      () => done({code: ExportResultCode.SUCCESS}),
      (error: Error) => {
        // Spans are diagnostics: a store that cannot write (PostgreSQL restarting) drops them, once said.
        if (!this.warned) this.logger?.warn('trace.store_write_failed', {error: error.message, spans: spans.length})
        this.warned = true
        done({code: ExportResultCode.FAILED, error})
      },
    )
  }

  async shutdown(): Promise<void> {
    await this.closePool()
  }

  async forceFlush(): Promise<void> {}

  private quiet<T>(f: () => Promise<T>): Promise<T> {
    return context.with(suppressTracing(context.active()), f)
  }

  private async closePool(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper)
    const pool = this.pool
    this.pool = undefined
    await pool?.end().catch(() => {})
  }
}
