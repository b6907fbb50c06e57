import type {SpanRow} from '../../src/telemetry/spans.js'

/** A stored span for tests: an internal 1 ms span starting at `startUs`, unless `over` says otherwise. */
export const spanRow = (traceId: string, spanId: string, parentId: string | null, startUs: number, over: Partial<SpanRow> = {}): SpanRow => ({
  trace_id: traceId,
  span_id: spanId,
  parent_id: parentId,
  name: spanId,
  kind: 0,
  component: null,
  aggregate_id: null,
  start_us: startUs,
  duration_us: 1000,
  status: 0,
  error: null,
  attributes: {},
  links: null,
  ...over,
})
