import {
  type Attributes,
  type Context,
  context,
  createContextKey,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
} from '@opentelemetry/api'

/**
 * Tracing of the event path, with @opentelemetry/api only: without a registered tracer provider
 * (unit and integration tests, `mm` commands that run no runner) every call here is a no-op.
 *
 * mm makes the messaging spans itself rather than through the kafkajs and amqplib
 * instrumentations: those parent a batch's messages on one span (a relay drain would put every
 * order's events under it) and link consumers to producers instead of parenting them, which splits
 * one order into many traces. Here each outbox row keeps the context of the request or message
 * that wrote it, the relay publishes each row under that context, and each consumed message is
 * processed in a child of its publish span: one order, one trace, from its HTTP request through
 * Kafka and RabbitMQ to the read model.
 */
export const tracer = trace.getTracer('mm')

/** Span attributes mm adds (besides OpenTelemetry's semantic conventions). */
export const ATTR = {
  component: 'mm.component',
  /** The aggregate (order, product, customer) the span worked on: how `mm trace <id>` finds it. */
  aggregateId: 'mm.aggregate_id',
  /** Milliseconds the message waited in the outbox before the relay published it. */
  outboxWaitMs: 'mm.outbox.wait_ms',
  /** Milliseconds between the broker taking the message and a consumer starting on it. */
  brokerWaitMs: 'mm.broker.wait_ms',
  /** Messages applied in the same transaction as this one. */
  batchSize: 'mm.batch.size',
  eventId: 'mm.event_id',
  eventType: 'mm.event_type',
  /** Set on the processing of a replayed dead letter: how many times it was replayed. */
  replayCount: 'mm.replay_count',
} as const

/**
 * Where the HTTP server span of a request is kept on the request (set by the http
 * instrumentation's hook in src/telemetry/preload.ts): the route names it. The active span is not
 * it when one component calls another in-process (fastify inject) while handling a request.
 */
export const SERVER_SPAN = Symbol.for('mm.http.server_span')

type Carrier = Record<string, string>

/** The W3C trace context of `ctx` as message headers (empty when nothing is traced). */
export const traceHeaders = (ctx: Context = context.active()): Carrier => {
  const carrier: Carrier = {}
  propagation.inject(ctx, carrier)
  return carrier
}

/** The context carried by message headers (Kafka header values are Buffers). */
export const contextFromHeaders = (headers: Record<string, unknown> | undefined): Context => {
  if (!headers) return ROOT_CONTEXT
  const carrier: Carrier = {}
  for (const key of ['traceparent', 'tracestate']) {
    const v = headers[key]
    if (v !== undefined && v !== null) carrier[key] = Buffer.isBuffer(v) ? v.toString() : String(v)
  }
  return carrier.traceparent ? propagation.extract(ROOT_CONTEXT, carrier) : ROOT_CONTEXT
}

/**
 * Whether the context carries a trace that records. A trace the root sampler dropped (nine in ten
 * at the default sampling) still travels with its messages, so every process makes the same
 * decision, but nothing in it is worth building: no attributes, no spans (the SDK would only
 * return a non-recording span for it after asking the sampler).
 */
const sampled = (ctx: Context): boolean => {
  const sc = trace.getSpanContext(ctx)
  return sc !== undefined && (sc.traceFlags & TraceFlags.SAMPLED) !== 0
}

/**
 * While a consumer applies a batch, which message caused work on which aggregate: an event the
 * handler writes to the outbox for aggregate X continues the trace of the message keyed X it is
 * handling, not that of the batch's first message.
 */
const CAUSES = createContextKey('mm.causes')

/** The context an outbox message for `key` continues: its cause in the batch, else the active one. */
export const contextFor = (key: string): Context => {
  const active = context.active()
  const causes = active.getValue(CAUSES) as Map<string, Context> | undefined
  return causes?.get(key) ?? active
}

/** Adds the trace context of the message's cause to outbox headers (unchanged when nothing is traced). */
export const withTraceHeaders = (key: string, headers: Record<string, string>): Record<string, string> => {
  const carrier = traceHeaders(contextFor(key))
  return carrier.traceparent ? {...headers, ...carrier} : headers
}

export interface ProcessedMessage {
  key: string
  headers: Record<string, unknown> | undefined
  /** When the broker took the message (ms since the epoch), for the time it waited there. */
  brokerTimestamp?: number
  /** More attributes, computed only for a message that is traced. */
  attributes?: () => Attributes
}

/**
 * Runs `apply` (one transaction for all `messages`) inside one CONSUMER span per traced message,
 * each a child of the span that published it; the spans end when `apply` settles, marked failed when it
 * throws. Database spans of the transaction go under the first message's span.
 */
export const processSpans = async <T>(name: string, attributes: Attributes, messages: ProcessedMessage[], apply: () => Promise<T>): Promise<T> => {
  const started = Date.now()
  const spans: Span[] = []
  const causes = new Map<string, Context>()
  for (const m of messages) {
    const parent = contextFromHeaders(m.headers)
    // Traces start at HTTP requests; a message that carries none (a pulse from mm load) starts none.
    if (!trace.getSpanContext(parent)) continue
    // A trace that is not recorded is only passed on: its outbox rows carry it unchanged.
    if (!sampled(parent)) {
      causes.set(m.key, parent)
      continue
    }
    // A replayed dead letter keeps its headers, traceparent included: its processing joins the
    // trace it failed in, marked with how many times it was replayed.
    const replays = m.headers?.['x-replay-count']
    const span = tracer.startSpan(
      name,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          ...(replays === undefined ? {} : {[ATTR.replayCount]: Number(String(replays)) || 0}),
          ...attributes,
          ...m.attributes?.(),
          [ATTR.aggregateId]: m.key,
          [ATTR.batchSize]: messages.length,
          ...(m.brokerTimestamp ? {[ATTR.brokerWaitMs]: Math.max(0, started - m.brokerTimestamp)} : {}),
        },
      },
      parent,
    )
    spans.push(span)
    causes.set(m.key, trace.setSpan(parent, span))
  }
  const first = spans[0]
  // Nothing to continue: nothing to record or propagate.
  if (causes.size === 0) return apply()
  // Without a recorded span, the database calls of the batch run under the first unrecorded
  // trace, which the database instrumentations skip (src/telemetry/preload.ts).
  const span = first ?? trace.wrapSpanContext(trace.getSpanContext(causes.values().next().value!)!)
  const ctx = trace.setSpan(context.active(), span).setValue(CAUSES, causes)
  if (!first) return context.with(ctx, apply)
  try {
    return await context.with(ctx, apply)
  } catch (error) {
    // A failed batch is retried one message at a time (new spans): only a message that fails
    // alone is marked failed, not every order that shared its batch.
    if (spans.length === 1) failSpan(first, error)
    else for (const span of spans) span.setAttribute('mm.batch.failed', (error as Error).message?.slice(0, 300) ?? String(error))
    throw error
  } finally {
    for (const span of spans) span.end()
  }
}

export const failSpan = (span: Span, error: unknown): void => {
  const e = error instanceof Error ? error : new Error(String(error))
  span.recordException(e)
  span.setStatus({code: SpanStatusCode.ERROR, message: e.message.slice(0, 300)})
}

/**
 * A span for one step of a message's life that is not a consumer's effect (a publish, a dead
 * letter), in the trace of `headers`; none for a message that carries no recorded trace (messages
 * start none).
 */
export const messageSpan = (name: string, kind: SpanKind, headers: Record<string, unknown> | undefined, attributes: () => Attributes): Span | undefined => {
  const parent = contextFromHeaders(headers)
  return sampled(parent) ? tracer.startSpan(name, {kind, attributes: attributes()}, parent) : undefined
}
