import type pg from 'pg'

/**
 * The span store: spans of recent traces in the platform's own PostgreSQL (schema mm_trace), so
 * `mm trace` and the dashboard need no extra server. PostgreSQL rather than Redis: the questions
 * asked of it (every trace that touched order X, the slowest traces of the last 5 minutes, the
 * failed ones) are an index lookup and a GROUP BY, retention is one DELETE, and spans survive a
 * restart of the runners, which is when one most wants to know what happened.
 */
export const SPAN_SCHEMA = 'mm_trace'

export const spanTables = (): string[] => [
  `CREATE SCHEMA IF NOT EXISTS ${SPAN_SCHEMA}`,
  `CREATE TABLE IF NOT EXISTS ${SPAN_SCHEMA}.spans (
     trace_id text NOT NULL,
     span_id text NOT NULL,
     parent_id text,
     name text NOT NULL,
     kind smallint NOT NULL,
     component text,
     aggregate_id text,
     start_us bigint NOT NULL,
     duration_us bigint NOT NULL,
     status smallint NOT NULL,
     error text,
     attributes jsonb NOT NULL,
     links jsonb,
     PRIMARY KEY (trace_id, span_id))`,
  `CREATE INDEX IF NOT EXISTS spans_aggregate ON ${SPAN_SCHEMA}.spans (aggregate_id) WHERE aggregate_id IS NOT NULL`,
  `CREATE INDEX IF NOT EXISTS spans_start ON ${SPAN_SCHEMA}.spans (start_us)`,
  // One row per trace, kept up to date as its spans arrive: the slowest and failed traces are an
  // index range and a sort of this, not a GROUP BY over every span.
  `CREATE TABLE IF NOT EXISTS ${SPAN_SCHEMA}.traces (
     trace_id text PRIMARY KEY,
     start_us bigint NOT NULL,
     end_us bigint NOT NULL,
     spans int NOT NULL,
     failed boolean NOT NULL,
     root text,
     aggregate_id text,
     components text[] NOT NULL)`,
  `CREATE INDEX IF NOT EXISTS traces_start ON ${SPAN_SCHEMA}.traces (start_us)`,
]

/** Creates the store's tables once per database, whoever comes first (runners of several processes). */
export const ensureSpanTables = async (client: pg.Pool | pg.Client): Promise<void> => {
  await client.query(`DO $$ BEGIN
      PERFORM pg_advisory_xact_lock(hashtext('mm.trace.schema'));
      ${spanTables()
        .map((sql) => `EXECUTE ${literal(sql)};`)
        .join('\n      ')}
    END $$`)
}

const literal = (sql: string): string => `'${sql.replace(/'/g, "''")}'`

/** One stored span. Times are microseconds since the epoch. */
export interface SpanRow {
  trace_id: string
  span_id: string
  parent_id: string | null
  name: string
  /** OpenTelemetry SpanKind: 0 internal, 1 server, 2 client, 3 producer, 4 consumer. */
  kind: number
  component: string | null
  aggregate_id: string | null
  start_us: number
  duration_us: number
  /** 0 unset, 1 ok, 2 error. */
  status: number
  error: string | null
  attributes: Record<string, unknown>
  links: {traceId: string; spanId: string; attributes?: Record<string, unknown>}[] | null
}

const COLUMNS = [
  ['trace_id', 'text'],
  ['span_id', 'text'],
  ['parent_id', 'text'],
  ['name', 'text'],
  ['kind', 'smallint'],
  ['component', 'text'],
  ['aggregate_id', 'text'],
  ['start_us', 'bigint'],
  ['duration_us', 'bigint'],
  ['status', 'smallint'],
  ['error', 'text'],
  ['attributes', 'jsonb'],
  ['links', 'jsonb'],
] as const

/**
 * Writes spans and adds them to their traces' summaries, in one statement. A span written twice
 * (an export retried) is kept, and counted, once. Summary rows are taken in trace id order, so
 * two writers never deadlock.
 */
export const insertSpans = async (client: pg.Pool | pg.Client, rows: SpanRow[]): Promise<void> => {
  if (rows.length === 0) return
  const params = COLUMNS.map(([column, type]) =>
    rows.map((r) => {
      const v = r[column]
      if (type === 'jsonb') return v === null ? null : JSON.stringify(v)
      return v
    }),
  )
  await client.query(
    `WITH s AS (
       INSERT INTO ${SPAN_SCHEMA}.spans (${COLUMNS.map(([c]) => c).join(', ')})
       SELECT * FROM unnest(${COLUMNS.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ')})
       ON CONFLICT DO NOTHING
       RETURNING trace_id, start_us, duration_us, status, name, aggregate_id, component),
     parts AS (
       SELECT trace_id, min(start_us) AS st, max(start_us + duration_us) AS en, count(*)::int AS n, bool_or(status = 2) AS f,
              (array_agg(name ORDER BY start_us, duration_us DESC))[1] AS r,
              (array_agg(aggregate_id ORDER BY start_us) FILTER (WHERE aggregate_id IS NOT NULL))[1] AS a,
              coalesce(array_agg(DISTINCT component) FILTER (WHERE component IS NOT NULL), '{}') AS c
       FROM s GROUP BY trace_id ORDER BY trace_id)
     INSERT INTO ${SPAN_SCHEMA}.traces AS t (trace_id, start_us, end_us, spans, failed, root, aggregate_id, components)
     SELECT trace_id, st, en, n, f, r, a, c FROM parts
     ON CONFLICT (trace_id) DO UPDATE SET
       root = CASE WHEN excluded.start_us < t.start_us THEN excluded.root ELSE t.root END,
       start_us = least(t.start_us, excluded.start_us),
       end_us = greatest(t.end_us, excluded.end_us),
       spans = t.spans + excluded.spans,
       failed = t.failed OR excluded.failed,
       aggregate_id = coalesce(t.aggregate_id, excluded.aggregate_id),
       components = ARRAY(SELECT DISTINCT unnest(t.components || excluded.components) ORDER BY 1)`,
    params,
  )
}

/** Drops spans that started before `beforeUs`; returns how many. */
export const deleteSpansBefore = async (client: pg.Pool | pg.Client, beforeUs: number): Promise<number> => {
  const res = await client.query(`DELETE FROM ${SPAN_SCHEMA}.spans WHERE start_us < $1`, [beforeUs])
  await client.query(`DELETE FROM ${SPAN_SCHEMA}.traces WHERE end_us < $1`, [beforeUs])
  return res.rowCount ?? 0
}

/** True once the store exists in this database (a platform that never ran traced runners has none). */
export const spanStoreExists = async (client: pg.Pool | pg.Client): Promise<boolean> => {
  const {rows} = await client.query<{ok: boolean}>(`SELECT to_regclass($1) IS NOT NULL AS ok`, [`${SPAN_SCHEMA}.spans`])
  return rows[0]?.ok ?? false
}

export const isTraceId = (id: string): boolean => /^[0-9a-f]{32}$/.test(id)

/** Trace ids of the traces that worked on an aggregate (an order, a product…), oldest first. */
export const tracesOfAggregate = async (client: pg.Pool | pg.Client, aggregateId: string, limit = 20): Promise<string[]> => {
  const {rows} = await client.query<{trace_id: string}>(
    `SELECT trace_id FROM ${SPAN_SCHEMA}.spans WHERE aggregate_id = $1 GROUP BY trace_id ORDER BY min(start_us) LIMIT $2`,
    [aggregateId, limit],
  )
  return rows.map((r) => r.trace_id)
}

export const spansOfTraces = async (client: pg.Pool | pg.Client, traceIds: string[]): Promise<SpanRow[]> => {
  if (traceIds.length === 0) return []
  const {rows} = await client.query<SpanRow>(
    `SELECT trace_id, span_id, parent_id, name, kind, component, aggregate_id, start_us::float8 AS start_us, duration_us::float8 AS duration_us,
            status, error, attributes, links
     FROM ${SPAN_SCHEMA}.spans WHERE trace_id = ANY($1::text[]) ORDER BY start_us, span_id`,
    [traceIds],
  )
  return rows
}

export interface TraceSummary {
  traceId: string
  startedAt: string
  durationMs: number
  spans: number
  failed: boolean
  /** The first aggregate the trace worked on (an order id for order traffic). */
  aggregateId: string | null
  /** The name of its first span (the HTTP request that started it). */
  root: string
  components: string[]
}

/** The slowest, or the failed, traces that started since `sinceUs`, slowest first. */
export const summarizeTraces = async (client: pg.Pool | pg.Client, o: {sinceUs: number; limit: number; failedOnly: boolean}): Promise<TraceSummary[]> => {
  const {rows} = await client.query<{
    trace_id: string
    start_us: number
    duration_us: number
    spans: number
    failed: boolean
    aggregate_id: string | null
    root: string | null
    components: string[]
  }>(
    // The root is read from the trace's spans: a span starts at the millisecond (the SDK's clock
    // for start times) and a parent ends after its children, so it often arrives in a later batch
    // with the same start as its first child, which traces.root could not tell apart. The earliest
    // span wins, and of those starting together the longest: the one enclosing the others.
    `SELECT t.trace_id, t.start_us::float8 AS start_us, (t.end_us - t.start_us)::float8 AS duration_us, t.spans, t.failed, t.aggregate_id,
            coalesce((SELECT s.name FROM ${SPAN_SCHEMA}.spans s WHERE s.trace_id = t.trace_id ORDER BY s.start_us, s.duration_us DESC LIMIT 1), t.root) AS root,
            t.components
     FROM (SELECT * FROM ${SPAN_SCHEMA}.traces
           WHERE start_us >= $1 AND ($3::boolean = false OR failed)
           ORDER BY end_us - start_us DESC LIMIT $2) t
     ORDER BY t.end_us - t.start_us DESC`,
    [o.sinceUs, o.limit, o.failedOnly === true],
  )
  return rows.map((r) => ({
    traceId: r.trace_id,
    startedAt: new Date(r.start_us / 1000).toISOString(),
    durationMs: r.duration_us / 1000,
    spans: r.spans,
    failed: r.failed,
    aggregateId: r.aggregate_id,
    root: r.root ?? '',
    components: r.components,
  }))
}
