import {stripVTControlCharacters} from 'node:util'

import {describe, expect, it} from 'vitest'

import {traceIdOf} from '../../src/operations/dlq/messages.js'
import {toWaterfall} from '../../src/operations/trace.js'
import type {SpanRow} from '../../src/telemetry/spans.js'
import {spanBar, unionMs, waterfallLines} from '../../src/ui/text/trace.js'
import {spanRow} from '../support/spans.js'

const T0 = 1_700_000_000_000_000
const row = (id: string, parent: string | null, o: Partial<SpanRow>): SpanRow => spanRow('t'.repeat(32), id, parent, T0, o)

// An order's creation: the request, two database calls under it, the publish, product's processing (failed) with one call.
const rows = [
  row('http', null, {name: 'POST /orders', kind: 1, component: 'order', duration_us: 20_000}),
  row('q1', 'http', {name: 'pg.query:INSERT', kind: 2, start_us: T0 + 2_000, duration_us: 3_000}),
  row('q2', 'http', {name: 'pg.query:COMMIT', kind: 2, start_us: T0 + 6_000, duration_us: 1_000}),
  row('pub', 'http', {
    name: 'publish order.created',
    kind: 3,
    component: 'order',
    start_us: T0 + 40_000,
    duration_us: 5_000,
    attributes: {'mm.outbox.wait_ms': 19},
  }),
  row('proc', 'pub', {
    name: 'process order.created',
    kind: 4,
    component: 'product',
    start_us: T0 + 60_000,
    duration_us: 40_000,
    status: 2,
    error: 'out of stock',
    attributes: {'mm.broker.wait_ms': 12},
  }),
  row('q3', 'proc', {name: 'pg.query:SELECT', kind: 2, start_us: T0 + 61_000, duration_us: 2_000}),
  // A span whose parent is not stored (a client's) is a root too.
  row('orphan', 'gone', {name: 'process order.created', kind: 4, component: 'query', start_us: T0 + 70_000, duration_us: 30_000}),
]

describe('the waterfall of a trace', () => {
  it('orders spans as a tree, inherits components, measures from the first span, marks the first error', () => {
    const w = toWaterfall('t'.repeat(32), [...rows].reverse())
    expect(w.durationMs).toBe(100)
    expect(w.spans.map((s) => [s.depth, s.spanId, s.component])).toEqual([
      [0, 'http', 'order'],
      [1, 'q1', 'order'],
      [1, 'q2', 'order'],
      [1, 'pub', 'order'],
      [2, 'proc', 'product'],
      [3, 'q3', 'product'],
      [0, 'orphan', 'query'],
    ])
    expect(w.failed).toBe(true)
    expect(w.firstError).toEqual({spanId: 'proc', name: 'process order.created', error: 'out of stock'})
    expect(w.components).toEqual(['order', 'product', 'query'])
  })

  it('folds database calls into their hop, with the waits and the first error in the notes', () => {
    const lines = waterfallLines(toWaterfall('t'.repeat(32), rows), false).map((cells) => cells.map((c) => stripVTControlCharacters(c)))
    expect(lines.map((l) => l[1])).toEqual(['POST /orders', '  publish order.created', '    process order.created', 'process order.created'])
    expect(lines[0]![5]).toBe('2 db calls, 4.0 ms in db')
    expect(lines[1]![5]).toBe('19.0 ms in outbox')
    expect(lines[2]![5]).toBe('12.0 ms in broker  1 db call, 2.0 ms in db  ✗ first error: out of stock')
    expect(lines[2]![2]).toBe('+60.0 ms')
    // --all shows every span at its depth.
    expect(waterfallLines(toWaterfall('t'.repeat(32), rows), true)).toHaveLength(7)
  })

  it('reports the wall time in the database: the union of the calls, not their sum', () => {
    // Disjoint calls add up; overlapping ones count once; a call inside another adds nothing.
    expect(unionMs([])).toBe(0)
    expect(
      unionMs([
        {startMs: 0, durationMs: 2},
        {startMs: 5, durationMs: 3},
      ]),
    ).toBe(5)
    expect(
      unionMs([
        {startMs: 4, durationMs: 4},
        {startMs: 0, durationMs: 5},
        {startMs: 2, durationMs: 1},
      ]),
    ).toBe(8)
    expect(
      unionMs([
        {startMs: 0, durationMs: 10},
        {startMs: 10, durationMs: 0},
        {startMs: 10, durationMs: 5},
        {startMs: 20, durationMs: 1},
      ]),
    ).toBe(16)

    // A 10 ms request that ran four 6 ms queries at once, then one disjoint 2 ms query: 8 ms in db, not 26.
    const concurrent = [
      row('http', null, {name: 'GET /q/orders', kind: 1, component: 'query', duration_us: 10_000}),
      ...[0, 1, 2, 3].map((i) => row(`c${i}`, 'http', {name: 'mongodb.find', kind: 2, start_us: T0 + 500 + i * 100, duration_us: 6_000})),
      row('late', 'http', {name: 'pg.query:SELECT', kind: 2, start_us: T0 + 7_500, duration_us: 2_000}),
    ]
    const [line] = waterfallLines(toWaterfall('t'.repeat(32), concurrent), false).map((cells) => cells.map((c) => stripVTControlCharacters(c)))
    // The four overlap from 0.5 to 6.8 ms (6.3 ms), the fifth adds 2 ms.
    expect(line![5]).toBe('5 db calls, 8.3 ms in db')
    expect(line![3]).toBe('10.0 ms')
  })

  it('counts the wall time in the database while the hop ran, and says what ran outside it', () => {
    // Clipped: only what falls within [2, 6] counts.
    const calls = [
      {startMs: 0, durationMs: 3},
      {startMs: 4, durationMs: 4},
      {startMs: 7, durationMs: 1},
    ]
    expect(unionMs(calls, {from: 2, to: 6})).toBe(3)
    expect(unionMs(calls, {from: 8, to: 20})).toBe(0)
    expect(unionMs(calls)).toBe(7)

    // A 5 ms consumer hop whose context made two calls that outlived it (e.g. work it started and did not wait for).
    const outliving = [
      row('proc', null, {name: 'process stock.reserved', kind: 4, component: 'order', duration_us: 5_000}),
      row('in', 'proc', {name: 'pg.query:UPDATE', kind: 2, start_us: T0 + 1_000, duration_us: 2_000}),
      row('across', 'proc', {name: 'pg.query:WITH', kind: 2, start_us: T0 + 4_000, duration_us: 4_000}),
      row('after', 'proc', {name: 'pg.query:SELECT', kind: 2, start_us: T0 + 9_000, duration_us: 1_000}),
    ]
    const [line] = waterfallLines(toWaterfall('t'.repeat(32), outliving), false).map((cells) => cells.map((c) => stripVTControlCharacters(c)))
    expect(line![5]).toBe('3 db calls, 3.0 ms in db during the hop, 2 outside it (+4.0 ms)')
  })

  it('draws each span where it falls on the time axis', () => {
    expect(spanBar(0, 50, 100, 10)).toBe('█████     ')
    expect(spanBar(90, 1, 100, 10)).toBe('         █')
    expect(spanBar(99.9, 0, 100, 10)).toBe('         █')
  })
})

describe('traceIdOf', () => {
  it('reads the trace id of a W3C traceparent, and nothing else', () => {
    expect(traceIdOf('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')).toBe('4bf92f3577b34da6a3ce929d0e0e4736')
    expect(traceIdOf('00-00000000000000000000000000000000-00f067aa0ba902b7-01')).toBeNull()
    expect(traceIdOf('garbage')).toBeNull()
    expect(traceIdOf(undefined)).toBeNull()
  })
})
