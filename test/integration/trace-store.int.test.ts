import pg from 'pg'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {
  deleteSpansBefore,
  ensureSpanTables,
  insertSpans,
  type SpanRow,
  spansOfTraces,
  spanStoreExists,
  summarizeTraces,
  tracesOfAggregate,
} from '../../src/telemetry/spans.js'
import {toWaterfall} from '../../src/operations/trace.js'
import {isolatedEndpoints} from './isolation.js'
import {spanRow} from '../support/spans.js'

/** The span store on a real PostgreSQL: writes, per-trace summaries, lookups, retention. */
let pool: pg.Pool

beforeAll(async () => {
  const endpoints = await isolatedEndpoints('trace_store')
  pool = new pg.Pool({connectionString: endpoints.postgres, max: 4})
})
afterAll(async () => {
  await pool?.end()
})

const T0 = 1_800_000_000_000_000
const span = (trace: string, id: string, parent: string | null, o: Partial<SpanRow> = {}): SpanRow =>
  spanRow(trace.padStart(32, '0'), id.padStart(16, '0'), parent?.padStart(16, '0') ?? null, T0, {name: `span ${id}`, ...o})

describe('span store', () => {
  it('keeps spans once, summarizes each trace across batches, finds traces by order, expires them', async () => {
    expect(await spanStoreExists(pool)).toBe(false)
    // Two writers creating the store at once (runners of two processes).
    await Promise.all([ensureSpanTables(pool), ensureSpanTables(pool)])
    expect(await spanStoreExists(pool)).toBe(true)

    // Trace a: the request, then (another batch) its publish and the failed processing, the root arriving last.
    const root = span('a', '1', null, {name: 'POST /orders', kind: 1, component: 'order', aggregate_id: 'order-1', duration_us: 20_000})
    const publish = span('a', '2', '1', {
      name: 'publish order.created',
      kind: 3,
      component: 'order',
      start_us: T0 + 30_000,
      attributes: {'mm.outbox.wait_ms': 12},
    })
    const processed = span('a', '3', '2', {
      name: 'process order.created',
      kind: 4,
      component: 'product',
      start_us: T0 + 50_000,
      duration_us: 70_000,
      status: 2,
      error: 'boom',
    })
    await Promise.all([insertSpans(pool, [publish, processed]), insertSpans(pool, [span('b', '9', null, {start_us: T0 + 5_000, aggregate_id: 'order-2'})])])
    await insertSpans(pool, [root, publish]) // publish again: kept once

    const [slowest, ...rest] = await summarizeTraces(pool, {sinceUs: T0 - 1, limit: 10, failedOnly: false})
    expect(slowest).toMatchObject({
      traceId: root.trace_id,
      durationMs: 120,
      spans: 3,
      failed: true,
      aggregateId: 'order-1',
      root: 'POST /orders',
      components: ['order', 'product'],
    })
    expect(rest.map((t) => t.aggregateId)).toEqual(['order-2'])
    expect((await summarizeTraces(pool, {sinceUs: T0 - 1, limit: 10, failedOnly: true})).map((t) => t.traceId)).toEqual([root.trace_id])

    expect(await tracesOfAggregate(pool, 'order-1')).toEqual([root.trace_id])
    const rows = await spansOfTraces(pool, [root.trace_id])
    expect(rows.map((r) => r.name)).toEqual(['POST /orders', 'publish order.created', 'process order.created'])
    const w = toWaterfall(root.trace_id, rows)
    expect(w.spans.map((s) => [s.depth, s.name, s.startMs, s.waitIn])).toEqual([
      [0, 'POST /orders', 0, null],
      [1, 'publish order.created', 30, 'outbox'],
      [2, 'process order.created', 50, null],
    ])
    expect(w.firstError).toMatchObject({name: 'process order.created', error: 'boom'})

    // Trace c: a span starts at the millisecond, so the request and its first query start together;
    // the query ends first and is stored in an earlier batch. The root is still the request.
    const request = span('c', '5', null, {name: 'POST /orders/:id/pay', kind: 1, start_us: T0 + 1_000, duration_us: 4_000})
    const query = span('c', '6', '5', {name: 'pg.query:SELECT mercadomio', kind: 2, start_us: T0 + 1_000, duration_us: 1_700})
    await insertSpans(pool, [query])
    await insertSpans(pool, [request])
    const c = (await summarizeTraces(pool, {sinceUs: T0 - 1, limit: 10, failedOnly: false})).find((t) => t.traceId === request.trace_id)
    expect(c).toMatchObject({root: 'POST /orders/:id/pay', spans: 2, durationMs: 4})

    expect(await deleteSpansBefore(pool, T0 + 10_000)).toBe(4) // the root of a, trace b and trace c
    expect(await summarizeTraces(pool, {sinceUs: 0, limit: 10, failedOnly: false})).toHaveLength(1)
  })
})
