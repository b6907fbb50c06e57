import {describe, expect, it} from 'vitest'

import {toRecentTrace} from '../../src/operations/collectors/traces.js'
import type {TraceSummary} from '../../src/telemetry/spans.js'

const summary: TraceSummary = {
  traceId: 'a'.repeat(32),
  startedAt: '2025-01-02T03:04:05.000Z',
  durationMs: 20.5,
  spans: 4,
  failed: true,
  aggregateId: 'o1',
  root: 'POST /orders',
  components: ['order', 'product'],
}

describe("mm dash --json's traces", () => {
  it('are the summaries the Traces panel lists, with the component each started in and its first error', () => {
    const t = toRecentTrace(summary, {trace_id: summary.traceId, component: 'order', error_span: 'process order.created', error: 'out of stock'})
    expect(Object.keys(t)).toEqual(['traceId', 'root', 'component', 'components', 'aggregateId', 'startedAt', 'durationMs', 'spans', 'failed', 'error'])
    expect(t).toMatchObject({component: 'order', failed: true, error: {span: 'process order.created', message: 'out of stock'}, durationMs: 20.5})
  })

  it('say nothing they do not know: no component, no error when no span failed or the spans expired', () => {
    expect(toRecentTrace({...summary, failed: false}, {trace_id: summary.traceId, component: null, error_span: null, error: null})).toMatchObject({
      component: null,
      error: null,
    })
    expect(toRecentTrace(summary, undefined)).toMatchObject({component: null, error: null, failed: true})
  })
})
