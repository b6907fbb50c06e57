import {MongoClient} from 'mongodb'
import pg from 'pg'

import {createKafka} from '../../services/shared/kafka.js'
import {MONGO_DATABASE} from '../../services/shared/topology.js'
import {SCHEMA as ORDER_SCHEMA} from '../../services/order/repository.js'
import type {Endpoints} from '../infra/types.js'
import type {Logger} from '../lib/logger.js'
import {UserError} from '../lib/errors.js'
import {isTraceId, spanStoreExists, type SpanRow, spansOfTraces, summarizeTraces, tracesOfAggregate, type TraceSummary} from '../telemetry/spans.js'
import {collectKafka, CONSUMER_GROUPS} from './collectors/queues.js'
import {OUTBOX_SCHEMAS} from './outbox.js'

/** One line of the waterfall. Times in milliseconds from the trace's first span. */
export interface WaterfallSpan {
  spanId: string
  parentId: string | null
  depth: number
  component: string | null
  name: string
  kind: 'internal' | 'server' | 'client' | 'producer' | 'consumer'
  startMs: number
  durationMs: number
  /** A hop of the event path (HTTP request, publish, process, dead letter) rather than a database call. */
  hop: boolean
  error: string | null
  /** Time the message waited before this span: in the outbox (publish) or in the broker (process). */
  waitMs: number | null
  waitIn: 'outbox' | 'broker' | null
  aggregateId: string | null
  attributes: Record<string, unknown>
  links: SpanRow['links']
}

export interface Waterfall {
  traceId: string
  startedAt: string
  durationMs: number
  failed: boolean
  /** The earliest span that failed. */
  firstError: {spanId: string; name: string; error: string} | null
  components: string[]
  spans: WaterfallSpan[]
}

/** Where an unfinished order waits, found from the brokers and the stores, not from the spans. */
export interface Waiting {
  where: 'outbox' | 'kafka' | 'dlq' | 'read-model'
  detail: string
  hint?: string
}

export interface TraceResult {
  query: string
  /** The order (or other aggregate) the traces worked on: the query itself, or found in the trace. */
  aggregateId: string | null
  traces: Waterfall[]
  /** For an order id: what is still on its way (empty when the read model has caught up). */
  waiting: Waiting[]
  /** For an order id: its version in the write model and in the read model. */
  versions?: {writeModel: number | null; readModel: number | null}
}

export interface TraceListResult {
  since: string
  failedOnly: boolean
  traces: TraceSummary[]
}

const KINDS = ['internal', 'server', 'client', 'producer', 'consumer'] as const

/** Orders a trace's spans as a tree (children after their parent, by start time). */
export const toWaterfall = (traceId: string, rows: SpanRow[]): Waterfall => {
  const sorted = [...rows].sort((a, b) => a.start_us - b.start_us || a.span_id.localeCompare(b.span_id))
  const t0 = sorted[0]?.start_us ?? 0
  const end = Math.max(t0, ...sorted.map((r) => r.start_us + r.duration_us))
  const ids = new Set(sorted.map((r) => r.span_id))
  const children = new Map<string | null, SpanRow[]>()
  for (const r of sorted) {
    // A parent outside the store (a client's span, a span already expired) makes a root.
    const parent = r.parent_id && ids.has(r.parent_id) ? r.parent_id : null
    children.set(parent, [...(children.get(parent) ?? []), r])
  }
  const spans: WaterfallSpan[] = []
  const visit = (parent: string | null, depth: number, inherited: string | null) => {
    for (const r of children.get(parent) ?? []) {
      const component = r.component ?? inherited
      const kind = KINDS[r.kind] ?? 'internal'
      const outbox = numberAttr(r.attributes['mm.outbox.wait_ms'])
      const broker = numberAttr(r.attributes['mm.broker.wait_ms'])
      spans.push({
        spanId: r.span_id,
        parentId: r.parent_id,
        depth,
        component,
        name: r.name,
        kind,
        startMs: (r.start_us - t0) / 1000,
        durationMs: r.duration_us / 1000,
        hop: kind === 'server' || kind === 'producer' || kind === 'consumer',
        error: r.status === 2 ? (r.error ?? 'error') : null,
        waitMs: outbox ?? broker,
        waitIn: outbox !== null ? 'outbox' : broker !== null ? 'broker' : null,
        aggregateId: r.aggregate_id,
        attributes: r.attributes,
        links: r.links,
      })
      visit(r.span_id, depth + 1, component)
    }
  }
  visit(null, 0, null)
  const failedSpans = spans.filter((s) => s.error !== null).sort((a, b) => a.startMs - b.startMs)
  const first = failedSpans[0]
  return {
    traceId,
    startedAt: new Date(t0 / 1000).toISOString(),
    durationMs: (end - t0) / 1000,
    failed: failedSpans.length > 0,
    firstError: first ? {spanId: first.spanId, name: first.name, error: first.error!} : null,
    components: [...new Set(spans.map((s) => s.component).filter((c): c is string => c !== null))],
    spans,
  }
}

const numberAttr = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null)

const openStore = async (endpoints: Endpoints): Promise<pg.Client> => {
  const client = new pg.Client({connectionString: endpoints.postgres, application_name: 'mm-trace'})
  await client.connect()
  if (!(await spanStoreExists(client))) {
    await client.end()
    throw new UserError(
      'no traces are stored yet: the runners have not recorded any',
      'traces start at HTTP requests (mm seed, mm load orders, the API); tracing is on unless MM_TRACE=off',
    )
  }
  return client
}

/** One order's traces (or one trace by id), with where the order still waits. */
export const traceOf = async (deps: {endpoints: Endpoints; logger: Logger}, id: string): Promise<TraceResult> => {
  const client = await openStore(deps.endpoints)
  try {
    const byTrace = isTraceId(id)
    const traceIds = byTrace ? [id] : await tracesOfAggregate(client, id)
    const rows = await spansOfTraces(client, traceIds)
    const traces = traceIds
      .map((t) =>
        toWaterfall(
          t,
          rows.filter((r) => r.trace_id === t),
        ),
      )
      .filter((t) => t.spans.length > 0)
    const aggregate = byTrace ? (traces[0]?.spans.find((s) => s.aggregateId)?.aggregateId ?? null) : id
    const state = aggregate ? await whereItWaits(deps, client, aggregate, traces) : {waiting: []}
    if (traces.length === 0 && state.versions?.writeModel == null)
      throw new UserError(
        `no trace of ${id}`,
        byTrace
          ? 'the trace expired (MM_TRACE_RETENTION), was not sampled (MM_TRACE_SAMPLE), or the id is wrong'
          : 'give an order id or a 32-hex trace id, e.g. from mm trace --slowest',
      )
    return {query: id, aggregateId: aggregate, traces, ...state}
  } finally {
    await client.end().catch(() => {})
  }
}

/**
 * Where an order waits: events in an outbox, messages a consumer group has not processed yet (by
 * the trace's publish spans and the group's lag), dead letters, and the read model's version
 * against the write model's.
 */
const whereItWaits = async (
  deps: {endpoints: Endpoints; logger: Logger},
  client: pg.Client,
  orderId: string,
  traces: Waterfall[],
): Promise<{waiting: Waiting[]; versions?: TraceResult['versions']}> => {
  const waiting: Waiting[] = []
  const outbox = await client.query<{schema: string; topic: string; waited_ms: number}>(
    OUTBOX_SCHEMAS.map(
      (s, i) =>
        `SELECT $${i + 2}::text AS schema, topic, (extract(epoch FROM now() - created_at) * 1000)::float8 AS waited_ms FROM "${s}".outbox WHERE message_key = $1 AND published_at IS NULL`,
    ).join(' UNION ALL '),
    [orderId, ...OUTBOX_SCHEMAS],
  )
  for (const r of outbox.rows)
    waiting.push({
      where: 'outbox',
      detail: `${r.topic} is in ${r.schema}'s outbox, not published for ${formatMs(r.waited_ms)}`,
      hint: 'its relay publishes it once Kafka answers: mm status shows the relays, mm logs <component> why they wait',
    })

  const spans = traces.flatMap((t) => t.spans)
  for (const s of spans.filter((x) => x.name.startsWith('dead-letter '))) {
    const dlq = String(s.attributes['messaging.destination.name'] ?? '')
    waiting.push({
      where: 'dlq',
      detail: `${s.name.slice('dead-letter '.length)} went to ${dlq}: ${s.error ?? 'failed'}`,
      hint: `mm dlq show ${dlq}; mm dlq replay ${dlq}`,
    })
  }

  // Published messages no consumer of a group that reads their topic has processed yet.
  const unprocessed: {topic: string; group: string}[] = []
  for (const p of spans.filter((x) => x.kind === 'producer' && x.name.startsWith('publish '))) {
    const topic = String(p.attributes['messaging.destination.name'] ?? '')
    for (const [group, topics] of Object.entries(CONSUMER_GROUPS)) {
      if (!topics.includes(topic)) continue
      const done = spans.some((c) => c.parentId === p.spanId && c.attributes['messaging.consumer.group.name'] === group)
      if (!done) unprocessed.push({topic, group})
    }
  }
  if (unprocessed.length > 0) {
    const lags = await groupLags(deps, unprocessed).catch(() => new Map<string, number>())
    for (const u of unprocessed) {
      const lag = lags.get(`${u.group}/${u.topic}`)
      waiting.push({
        where: 'kafka',
        detail: `${u.topic} is published; consumer group ${u.group} has not processed it yet${lag === undefined ? '' : ` (lag ${lag} on the topic)`}`,
        hint: lag ? 'mm dash shows the lag live; mm status whether the runner is up' : undefined,
      })
    }
  }

  const write = await client
    .query<{version: number}>(`SELECT version FROM "${ORDER_SCHEMA}".orders WHERE id = $1`, [orderId])
    .then((r) => r.rows[0]?.version ?? null)
    .catch(() => null)
  if (write === null) return {waiting}
  const read = await readModelVersion(deps.endpoints, orderId).catch(() => null)
  if (read === null || read < write)
    waiting.push({
      where: 'read-model',
      detail:
        read === null
          ? `orders_view has no document for ${orderId} yet (write model at version ${write})`
          : `orders_view is at version ${read}, the write model at ${write}`,
      hint: 'the query runner applies it once it consumes the event: mm projections verify checks every view',
    })
  return {waiting, versions: {writeModel: write, readModel: read}}
}

/** The lag of each wanted group on each wanted topic, computed as mm status does (collectKafka). */
const groupLags = async (deps: {endpoints: Endpoints; logger: Logger}, wanted: {topic: string; group: string}[]): Promise<Map<string, number>> => {
  const admin = createKafka(deps.endpoints.kafka, 'mm-trace', deps.logger).admin()
  await admin.connect()
  try {
    const {lag, error} = await collectKafka(async () => admin)
    if (error) throw new Error(error)
    const keys = new Set(wanted.map((w) => `${w.group}/${w.topic}`))
    return new Map(lag.filter((l) => keys.has(`${l.group}/${l.topic}`)).map((l) => [`${l.group}/${l.topic}`, l.lag]))
  } finally {
    await admin.disconnect().catch(() => {})
  }
}

const readModelVersion = async (endpoints: Endpoints, orderId: string): Promise<number | null> => {
  const mongo = new MongoClient(endpoints.mongo, {directConnection: true, serverSelectionTimeoutMS: 5000})
  await mongo.connect()
  try {
    const doc = await mongo
      .db(MONGO_DATABASE)
      .collection<{_id: string; version?: number}>('orders_view')
      .findOne({_id: orderId}, {projection: {version: 1}})
    return typeof doc?.version === 'number' ? doc.version : null
  } finally {
    await mongo.close().catch(() => {})
  }
}

/** The slowest (or the failed) traces since a moment. */
export const listTraces = async (deps: {endpoints: Endpoints}, o: {sinceMs: number; limit: number; failedOnly: boolean}): Promise<TraceListResult> => {
  const client = await openStore(deps.endpoints)
  try {
    const since = Date.now() - o.sinceMs
    const traces = await summarizeTraces(client, {sinceUs: since * 1000, limit: o.limit, failedOnly: o.failedOnly})
    return {since: new Date(since).toISOString(), failedOnly: o.failedOnly, traces}
  } finally {
    await client.end().catch(() => {})
  }
}

export const formatMs = (ms: number): string => (ms < 1 ? `${ms.toFixed(2)} ms` : ms < 1000 ? `${ms.toFixed(1)} ms` : `${(ms / 1000).toFixed(2)} s`)
