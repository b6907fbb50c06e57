import {randomBytes} from 'node:crypto'

import * as hdr from 'hdr-histogram-js'

import {MmError, UserError} from '../../lib/errors.js'
import type {Api} from '../api.js'
import type {FeedEntry} from '../../../services/shared/events-feed.js'
import {createFeedWatch, type FeedWatch} from './feed-watch.js'
import {createPacer, seededRandom} from './schedule.js'
import {holds, type Threshold} from './thresholds.js'

export interface LoadOrdersOptions {
  api: Api
  /** Redis of the platform: its live feed wakes waiting orders instead of tight polling. */
  redisUrl?: string
  signal: AbortSignal
  rate: number
  concurrency: number
  durationMs?: number
  total?: number
  warmupMs: number
  percentiles: number[]
  thresholds: Threshold[]
  /** How long one order may take to be reserved, and to show as PAID in the read model. */
  stepTimeoutMs: number
  seed?: number
  onProgress?: (p: {started: number; completed: number; errors: number; inFlight: number}) => void
}

export interface LoadOrdersResult {
  requested: number
  completed: number
  measured: number
  dropped: number
  errors: Record<string, number>
  errorRate: number
  durationMs: number
  throughputPerSec: number
  latencyMs: Record<string, number>
  /** From the pay response to PAID in the read model: how far the projection trails the write model. */
  readModelLagMs: Record<string, number>
  /** Orders completed in each second of the run (first entry: the first second). */
  completedPerSecond: number[]
  /**
   * Exemplars: the slowest measured orders with the traces of their create and pay requests
   * (mm load starts each request's trace itself, with a W3C traceparent): mm trace <order-id>.
   */
  slowest: {orderId: string; ms: number; traceIds: string[]}[]
  thresholds: {expr: string; ok: boolean; actual: number}[]
  warnings: string[]
  /** Stopped early (Ctrl-C, SIGTERM): the orders in flight then are counted here, not as errors. */
  interrupted: number | false
}

type Outcome = {ok: true; ms: number; lagMs: number; orderId: string; traceIds: string[]} | {ok: false; kind: string}

/** A new W3C trace context for one request, sampled (the platform still applies MM_TRACE_SAMPLE). */
const newTrace = (): {traceId: string; traceparent: string} => {
  const traceId = randomBytes(16).toString('hex')
  return {traceId, traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`}
}

/** How many exemplars (slowest orders) a run keeps. */
const EXEMPLARS = 5

/**
 * One virtual order: create → wait RESERVED → pay → wait until the read model shows PAID. The
 * latency is from the POST to the read model showing PAID.
 */
const virtualOrder = async (o: LoadOrdersOptions, watch: FeedWatch, customerId: string, productId: string, quantity: number): Promise<Outcome> => {
  const t0 = performance.now()
  const createTrace = newTrace()
  const created = await o.api.request(
    'POST',
    '/orders',
    {customer_id: customerId, items: [{product_id: productId, quantity}]},
    {traceparent: createTrace.traceparent},
  )
  if (created.status !== 201) return {ok: false, kind: `create_${created.status}`}
  const id = created.body.id as string
  // Each wait looks at the order only when the runner that moves it says it handled the order
  // (or after a second without word): no polls while it is certainly still PENDING or unpaid.
  const reserved = await pollUntil(
    o,
    watch,
    id,
    (e) => e.runner === 'order' && e.type.startsWith('stock.'),
    async () => {
      const r = await o.api.request('GET', `/orders/${id}`)
      return r.status === 200 && r.body.status !== 'PENDING' ? (r.body.status as string) : undefined
    },
  )
  if (reserved === undefined) return {ok: false, kind: 'reserve_timeout'}
  if (reserved !== 'RESERVED') return {ok: false, kind: `order_${reserved.toLowerCase()}`}
  const payTrace = newTrace()
  const paid = await o.api.request('POST', `/orders/${id}/pay`, undefined, {traceparent: payTrace.traceparent})
  if (paid.status !== 200) return {ok: false, kind: `pay_${paid.status}`}
  const paidAt = performance.now()
  const visible = await pollUntil(
    o,
    watch,
    id,
    (e) => e.runner === 'query' && e.type === 'order.paid',
    async () => {
      const r = await o.api.request('GET', `/q/orders/${id}`)
      return r.status === 200 && r.body.status === 'PAID' ? true : undefined
    },
  )
  if (!visible) return {ok: false, kind: 'read_model_timeout'}
  const now = performance.now()
  return {ok: true, ms: now - t0, lagMs: now - paidAt, orderId: id, traceIds: [createTrace.traceId, payTrace.traceId]}
}

/**
 * Confirms through the API once the feed reports the step (`match`), and every second regardless.
 * Without a feed it polls: first at once, then every second.
 */
const pollUntil = async <T>(
  o: LoadOrdersOptions,
  watch: FeedWatch,
  id: string,
  match: (e: FeedEntry) => boolean,
  check: () => Promise<T | undefined>,
): Promise<T | undefined> => {
  const deadline = Date.now() + o.stepTimeoutMs
  for (let round = 0; Date.now() < deadline && !o.signal.aborted; round++) {
    const nudged = watch.nudge(id, 1000, o.signal, match)
    if (watch.live || round > 0) await nudged
    const v = await check()
    if (v !== undefined) return v
  }
  return undefined
}

/** `mm load orders`: open-model order traffic through the HTTP API, measured into an HDR histogram. */
export const loadOrders = async (o: LoadOrdersOptions): Promise<LoadOrdersResult> => {
  const customers = (await o.api.request('GET', '/customers?limit=100')).body
  const products = (await o.api.request('GET', '/products?limit=100')).body
  const list = (b: unknown) => (Array.isArray(b) ? b : ((b as {items?: unknown[]})?.items ?? [])) as {id: string; stock?: number}[]
  const cs = list(customers)
  const ps = list(products).filter((p) => (p.stock ?? 1) > 0)
  if (cs.length === 0 || ps.length === 0) throw new UserError('no customers or products with stock to order', 'run mm seed first')

  const slowest: LoadOrdersResult['slowest'] = []
  const histogram = hdr.build({lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000, numberOfSignificantValueDigits: 3})
  const lagHistogram = hdr.build({lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000, numberOfSignificantValueDigits: 3})
  const perSecond: number[] = []
  const errors: Record<string, number> = {}
  const random = seededRandom(o.seed ?? Date.now())
  const pacer = createPacer({rate: o.rate, total: o.total, durationMs: o.durationMs, signal: o.signal})
  const started = Date.now()
  let requested = 0
  let completed = 0
  let dropped = 0
  let inFlight = 0
  let maxBehind = 0
  let cutShort = 0
  const tasks = new Set<Promise<void>>()
  const watch = await createFeedWatch(o.redisUrl)
  for (;;) {
    // --rate 0 is a closed model: the next order starts when one finishes. (Dropping instead, as
    // the open model does, spun this loop on microtasks and starved the responses it waited for.)
    while (o.rate === 0 && inFlight >= o.concurrency && tasks.size > 0) await Promise.race(tasks)
    const i = await pacer.next()
    if (i === undefined) break
    maxBehind = Math.max(maxBehind, pacer.behindMs())
    requested++
    if (inFlight >= o.concurrency) {
      dropped++
      // A generator far behind its rate gets its overdue slots at once: without a turn of the event
      // loop now and then, the responses it waits for (and Ctrl-C) would wait for the whole backlog.
      if (dropped % 256 === 0) await new Promise((resolve) => setImmediate(resolve))
      continue
    }
    const measuredRun = Date.now() - started >= o.warmupMs
    const customer = cs[Math.floor(random() * cs.length)]!
    const product = ps[Math.floor(random() * ps.length)]!
    inFlight++
    const task = virtualOrder(o, watch, customer.id, product.id, 1)
      .catch((error: unknown): Outcome => ({ok: false, kind: error instanceof MmError ? 'network' : 'exception'}))
      .then((outcome) => {
        inFlight--
        if (outcome.ok) {
          completed++
          const second = Math.floor((Date.now() - started) / 1000)
          while (perSecond.length <= second) perSecond.push(0)
          perSecond[second]!++
          if (measuredRun) {
            histogram.recordValue(Math.max(1, Math.round(outcome.ms)))
            lagHistogram.recordValue(Math.max(1, Math.round(outcome.lagMs)))
            if (slowest.length < EXEMPLARS || outcome.ms > slowest.at(-1)!.ms) {
              slowest.push({orderId: outcome.orderId, ms: Math.round(outcome.ms), traceIds: outcome.traceIds})
              slowest.sort((a, b) => b.ms - a.ms)
              slowest.length = Math.min(slowest.length, EXEMPLARS)
            }
          }
        } else if (o.signal.aborted)
          cutShort++ // stopped waiting for it: not the platform's error
        else errors[outcome.kind] = (errors[outcome.kind] ?? 0) + 1
        o.onProgress?.({started: requested, completed, errors: Object.values(errors).reduce((a, b) => a + b, 0), inFlight})
      })
    tasks.add(task)
    void task.finally(() => tasks.delete(task))
  }
  await Promise.all(tasks)
  await watch.close()
  const durationMs = Date.now() - started
  const errorCount = Object.values(errors).reduce((a, b) => a + b, 0) + dropped
  const attempted = Math.max(1, requested - cutShort)
  const latencyMs: Record<string, number> = {}
  for (const p of o.percentiles) latencyMs[`p${p}`] = histogram.getValueAtPercentile(p)
  latencyMs.max = histogram.maxValue
  latencyMs.mean = Math.round(histogram.mean * 10) / 10
  const readModelLagMs: Record<string, number> = {}
  for (const p of o.percentiles) readModelLagMs[`p${p}`] = lagHistogram.getValueAtPercentile(p)
  readModelLagMs.max = lagHistogram.maxValue
  const throughputPerSec = completed / Math.max(durationMs / 1000, 0.001)
  const actualOf = (metric: string): number =>
    metric === 'errors'
      ? (errorCount / attempted) * 100
      : metric === 'rate'
        ? throughputPerSec
        : metric === 'max'
          ? histogram.maxValue
          : metric === 'mean'
            ? histogram.mean
            : histogram.getValueAtPercentile(Number(metric.slice(1)))
  const thresholds = o.thresholds.map((t) => {
    const actual = actualOf(t.metric)
    return {expr: t.expr, ok: holds(t, actual), actual: Math.round(actual * 100) / 100}
  })
  const warnings: string[] = []
  if (dropped > 0)
    warnings.push(`${dropped} orders were not started because --concurrency ${o.concurrency} was reached: the platform is slower than the asked rate`)
  if (o.rate > 0 && maxBehind > 1000) warnings.push(`the generator fell up to ${(maxBehind / 1000).toFixed(1)}s behind the asked rate of ${o.rate}/s`)
  const measured = histogram.totalCount
  histogram.destroy()
  lagHistogram.destroy()
  if (dropped > 0) errors.dropped = dropped
  return {
    requested,
    completed,
    measured,
    dropped,
    errors,
    errorRate: Math.round((errorCount / attempted) * 10_000) / 100,
    durationMs,
    throughputPerSec: Math.round(throughputPerSec * 100) / 100,
    latencyMs,
    readModelLagMs,
    completedPerSecond: perSecond,
    slowest,
    thresholds,
    warnings,
    interrupted: o.signal.aborted ? cutShort : false,
  }
}
