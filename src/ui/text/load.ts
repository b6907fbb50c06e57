import type {LoadOrdersResult} from '../../operations/load/orders.js'
import type {LoadPulsesResult} from '../../operations/load/pulses.js'
import {table} from '../table.js'

export const renderLoadPulses = (r: LoadPulsesResult): string => {
  const head = `${r.interrupted ? 'interrupted: ' : ''}published ${r.published} pulses (${r.valid} valid, ${r.invalid} invalid) in ${(r.durationMs / 1000).toFixed(1)}s — ${r.ratePerSec.toFixed(0)}/s`
  const rows = r.totals.map((t) => [t.tenant, t.product_sku, t.use_unity, String(t.count), t.used_amount])
  return `${head}\n\nexpected totals after a flush (added to what was stored before):\n${table(['TENANT', 'SKU', 'UNIT', 'PULSES', 'USED_AMOUNT'], rows)}`
}

export const renderLoadOrders = (r: LoadOrdersResult): string => {
  const lat = Object.entries(r.latencyMs).map(([k, v]) => [k, `${v} ms`, r.readModelLagMs[k] === undefined ? '-' : `${r.readModelLagMs[k]} ms`])
  const errs = Object.entries(r.errors)
  const lines = [
    ...(r.interrupted === false
      ? []
      : [`interrupted: ${r.interrupted} ${r.interrupted === 1 ? 'order' : 'orders'} in flight not waited for (not counted as errors)`]),
    `orders: ${r.completed} completed of ${r.requested - r.dropped} started${r.dropped > 0 ? ` (${r.dropped} more asked for, not started: --concurrency reached)` : ''} in ${(r.durationMs / 1000).toFixed(1)}s — ${r.throughputPerSec}/s, errors ${r.errorRate}%`,
    '',
    "latency: POST /orders → PAID in the read model, and the read model's lag (pay answered → PAID in the read model):",
    table(['STAT', 'POST → PAID', 'READ-MODEL LAG'], lat),
  ]
  if (r.slowest.length > 0)
    lines.push(
      '',
      'slowest orders (the traces of their create and pay requests; mm trace <order> shows where the time went in those the sampler recorded, MM_TRACE_SAMPLE):',
      table(
        ['ORDER', 'POST → PAID', 'TRACES'],
        r.slowest.map((x) => [x.orderId, `${x.ms} ms`, x.traceIds.join(' ')]),
      ),
    )
  if (errs.length)
    lines.push(
      '',
      table(
        ['ERROR', 'COUNT'],
        errs.map(([k, v]) => [k, String(v)]),
      ),
    )
  if (r.thresholds.length)
    lines.push(
      '',
      table(
        ['THRESHOLD', 'ACTUAL', 'RESULT'],
        r.thresholds.map((t) => [t.expr, String(t.actual), t.ok ? 'ok' : 'BROKEN']),
      ),
    )
  return lines.join('\n')
}
