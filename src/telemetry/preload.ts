import {type Attributes, type Context, context, type Link, SpanKind, trace} from '@opentelemetry/api'
import {registerInstrumentations} from '@opentelemetry/instrumentation'
import {HttpInstrumentation} from '@opentelemetry/instrumentation-http'
import {MongoDBInstrumentation} from '@opentelemetry/instrumentation-mongodb'
import {PgInstrumentation} from '@opentelemetry/instrumentation-pg'
import pgInstrumentationUtils from '@opentelemetry/instrumentation-pg/build/src/utils.js'
import {resourceFromAttributes} from '@opentelemetry/resources'
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  SamplingDecision,
  type SamplingResult,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base'
import {NodeTracerProvider} from '@opentelemetry/sdk-trace-node'

import {SERVER_SPAN} from '../../services/shared/tracing.js'
import {setInstalledTracing} from './handle.js'
import {SpanStoreExporter} from './store.js'

/**
 * Loaded by bin/run.js, before oclif and before any client library, for the commands that run
 * runners (mm up, mm supervise, mm run) unless MM_TRACE=off: installs the tracer provider and the
 * instrumentations of the HTTP server, pg and mongodb. The messaging spans (outbox relay,
 * Kafka and RabbitMQ consumers) are mm's own, in services/shared/tracing.ts. Redis is not
 * instrumented: with auto-pipelining, ioredis sends the commands of many callers from the first
 * one's context, so their spans landed in whichever trace queued first (in a run at 50 orders/s,
 * hundreds of other requests' GET/SET/EXISTS inside POST /orders traces, up to 400 ms after they
 * ended), and the platform's Redis calls (the live feed, ingest's totals) say nothing about an order.
 */

/** The root sampler, set when a host configures tracing; records nothing until then. */
class AdjustableSampler implements Sampler {
  private inner: Sampler = new AlwaysOffSampler()
  private ratio = 0

  set(ratio: number): void {
    this.ratio = ratio
    this.inner = ratio >= 1 ? new AlwaysOnSampler() : ratio <= 0 ? new AlwaysOffSampler() : new TraceIdRatioBasedSampler(ratio)
  }

  shouldSample(ctx: Context, traceId: string, name: string, kind: SpanKind, attributes: Attributes, links: Link[]): SamplingResult {
    return this.inner.shouldSample(ctx, traceId, name, kind, attributes, links)
  }

  toString(): string {
    return `mm(${this.ratio})`
  }
}

/**
 * Reads start no trace: polls of state (the dashboard, mm wait, mm load's status checks) and
 * /health. They are not ignored by the http instrumentation but sampled out here: an ignored
 * request runs in whatever context its keep-alive connection last had, so the database calls of
 * a status poll would land in the trace of the POST before it on the same connection. Sampled
 * out, each gets a context of its own that records nothing.
 */
class ReadsStartNoTrace implements Sampler {
  constructor(private readonly inner: Sampler) {}

  shouldSample(ctx: Context, traceId: string, name: string, kind: SpanKind, attributes: Attributes, links: Link[]): SamplingResult {
    if (kind === SpanKind.SERVER && !trace.getSpanContext(ctx)) {
      const method = attributes['http.request.method']
      if (attributes['url.path'] === '/health' || method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return {decision: SamplingDecision.NOT_RECORD}
    }
    return this.inner.shouldSample(ctx, traceId, name, kind, attributes, links)
  }

  toString(): string {
    return `ReadsStartNoTrace(${this.inner.toString()})`
  }
}

/**
 * Database spans only inside a trace that records. Their instrumentations' `requireParentSpan`
 * asks only whether a span is active, and in a trace the sampler dropped one always is (a
 * non-recording one, which carries the trace to the next process): every query would still build
 * its attributes, serialize its statement, ask the sampler and wrap its callback, for nothing.
 * Both instrumentations are pinned in package.json; when a release moves these internals, the
 * instrumentation keeps its own check (correct, only slower), as if this were not here.
 */
const recording = (): boolean => trace.getSpan(context.active())?.isRecording() === true

const pgUtils = pgInstrumentationUtils as {shouldSkipInstrumentation?: (config: {requireParentSpan?: boolean}) => boolean}
if (typeof pgUtils.shouldSkipInstrumentation === 'function') {
  pgUtils.shouldSkipInstrumentation = (config) => config.requireParentSpan === true && !recording()
}

class MongoDBInRecordedTraces extends MongoDBInstrumentation {}
const mongoProto = MongoDBInRecordedTraces.prototype as unknown as {_checkSkipInstrumentation?: unknown}
if (typeof mongoProto._checkSkipInstrumentation === 'function') {
  mongoProto._checkSkipInstrumentation = () => !recording()
}

const sampler = new AdjustableSampler()
const store = new SpanStoreExporter()
const processors: SpanProcessor[] = [new BatchSpanProcessor(store, {maxQueueSize: 20_000, maxExportBatchSize: 512, scheduledDelayMillis: 500})]

// OTLP as well when the standard variables ask for it (Jaeger, the Aspire dashboard, a collector).
if (process.env.OTEL_EXPORTER_OTLP_ENDPOINT || process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) {
  const {OTLPTraceExporter} = await import('@opentelemetry/exporter-trace-otlp-proto')
  processors.push(new BatchSpanProcessor(new OTLPTraceExporter()))
}

const provider = new NodeTracerProvider({
  resource: resourceFromAttributes({'service.name': process.env.OTEL_SERVICE_NAME || 'mercadomio'}),
  // A trace mm load (or any client) started is sampled at mm's ratio too: the ratio sampler
  // decides by trace id, so every process keeps or drops the same traces.
  sampler: new ReadsStartNoTrace(new ParentBasedSampler({root: sampler, remoteParentSampled: sampler})),
  spanProcessors: processors,
})
provider.register()

registerInstrumentations({
  tracerProvider: provider,
  instrumentations: [
    new HttpInstrumentation({
      disableOutgoingRequestInstrumentation: true,
      // The component's route names the span (services/shared/component.ts).
      // (Only incoming requests are instrumented: outgoing instrumentation is off.)
      requestHook: (span, req) => {
        ;(req as unknown as Record<symbol, unknown>)[SERVER_SPAN] = span
      },
    }),
    // Database spans only inside a recorded trace (never for the relays' and collectors' background
    // polls); statements without their values.
    new PgInstrumentation({requireParentSpan: true, enhancedDatabaseReporting: false, ignoreConnectSpans: true}),
    new MongoDBInRecordedTraces({requireParentSpan: true, enhancedDatabaseReporting: false}),
  ],
})

setInstalledTracing({
  async configure(o) {
    await store.configure(o)
    sampler.set(o.sample)
  },
  flush: () => provider.forceFlush(),
  shutdown: () => provider.shutdown(),
})
