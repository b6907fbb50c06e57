import {context, trace} from '@opentelemetry/api'
import {AlwaysOnSampler, InMemorySpanExporter, ParentBasedSampler, SimpleSpanProcessor} from '@opentelemetry/sdk-trace-base'
import {NodeTracerProvider} from '@opentelemetry/sdk-trace-node'
import {afterAll, beforeEach, describe, expect, it} from 'vitest'

import {messageSpan, processSpans, withTraceHeaders} from '../../services/shared/tracing.js'

// The SDK in memory (no server, no mock): what the runners' spans and headers become.
const exporter = new InMemorySpanExporter()
const provider = new NodeTracerProvider({
  sampler: new ParentBasedSampler({root: new AlwaysOnSampler()}),
  spanProcessors: [new SimpleSpanProcessor(exporter)],
})
provider.register()
afterAll(() => provider.shutdown())
beforeEach(() => exporter.reset())

const TRACE = '0af7651916cd43dd8448eb211c80319c'
const PUBLISH = 'b7ad6b7169203331'
const header = (flags: '00' | '01') => ({traceparent: `00-${TRACE}-${PUBLISH}-${flags}`})

/** What the handler of a batch sees: the headers its outbox rows get, and whether db calls would record. */
const inside = () => ({
  headers: withTraceHeaders('order-1', {'event-type': 'stock.reserved'}),
  recording: trace.getActiveSpan()?.isRecording() ?? false,
})

describe('trace propagation through a consumer (services/shared/tracing.ts)', () => {
  it('a recorded trace: one consumer span per message, a child of its publish span, continued by the outbox rows', async () => {
    const seen = await processSpans('process order.created', {}, [{key: 'order-1', headers: header('01')}], async () => inside())
    const [span] = exporter.getFinishedSpans()
    expect(span).toBeDefined()
    expect(span!.spanContext().traceId).toBe(TRACE)
    expect(span!.parentSpanContext?.spanId).toBe(PUBLISH)
    expect(seen.recording).toBe(true)
    expect(seen.headers.traceparent).toBe(`00-${TRACE}-${span!.spanContext().spanId}-01`)
    expect(seen.headers['event-type']).toBe('stock.reserved')
  })

  it('a trace the sampler dropped: no span, nothing recorded for the database calls, the same trace passed on unsampled', async () => {
    const seen = await processSpans(
      'process order.created',
      {},
      [{key: 'order-1', headers: header('00'), attributes: () => expect.unreachable('attributes of an unrecorded message')}],
      async () => inside(),
    )
    expect(exporter.getFinishedSpans()).toHaveLength(0)
    expect(seen.recording).toBe(false)
    expect(seen.headers.traceparent).toBe(`00-${TRACE}-${PUBLISH}-00`)
  })

  it('a batch mixing both: each message continues its own trace, the database calls go under the recorded one', async () => {
    const messages = [
      {key: 'order-2', headers: {traceparent: `00-${'1'.repeat(32)}-${'2'.repeat(16)}-00`}},
      {key: 'order-1', headers: header('01')},
    ]
    const seen = await processSpans('process order.created', {}, messages, async () => ({
      ...inside(),
      other: withTraceHeaders('order-2', {}).traceparent,
    }))
    expect(exporter.getFinishedSpans()).toHaveLength(1)
    expect(seen.recording).toBe(true)
    expect(seen.headers.traceparent).toMatch(new RegExp(`^00-${TRACE}-[0-9a-f]{16}-01$`))
    expect(seen.other).toBe(`00-${'1'.repeat(32)}-${'2'.repeat(16)}-00`)
  })

  it('a message without a trace starts none', async () => {
    const seen = await processSpans('process pulse', {}, [{key: 'order-1', headers: {}}], async () => inside())
    expect(exporter.getFinishedSpans()).toHaveLength(0)
    expect(seen.headers).toEqual({'event-type': 'stock.reserved'})
  })

  it('a publish or dead-letter span exists only in a recorded trace', () => {
    expect(messageSpan('publish order.created', 0, header('00'), () => expect.unreachable('attributes of an unrecorded message'))).toBeUndefined()
    expect(messageSpan('publish order.created', 0, {}, () => ({}))).toBeUndefined()
    const span = messageSpan('publish order.created', 0, header('01'), () => ({'mm.component': 'order'}))
    expect(span?.isRecording()).toBe(true)
    span!.end()
    // The active context is left as it was.
    expect(trace.getSpan(context.active())).toBeUndefined()
  })
})
