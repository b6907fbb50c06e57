import type {PlatformStatus} from '../../operations/status.js'

/**
 * The dashboard's trends: a few numbers per poll, kept for the last minutes, drawn as sparklines.
 * Pure functions; the component keeps the history.
 */
export interface TrendSample {
  at: number
  /** Events the runners handled per second since the previous poll (consumers and relays). */
  eventsPerSec: number
  /** HTTP requests per second since the previous poll, all runners. */
  httpPerSec: number
  /** Kafka consumer lag, all groups and topics. */
  kafkaLag: number | undefined
  /** How far the read model's newest order change trails the write model's, in seconds. */
  readModelLagSec: number | undefined
}

export const TREND_SAMPLES = 180

const totals = (s: PlatformStatus) =>
  s.runners.reduce((t, r) => ({handled: t.handled + r.counters.handled + r.counters.failed, http: t.http + r.counters.httpRequests}), {handled: 0, http: 0})

/** The history with this poll's sample added (the first poll only sets the counters' base). */
export const addSample = (
  history: readonly TrendSample[],
  prev: {at: number; status: PlatformStatus} | undefined,
  cur: {at: number; status: PlatformStatus},
  keep = TREND_SAMPLES,
): TrendSample[] => {
  if (!prev || cur.at <= prev.at) return [...history]
  const dt = (cur.at - prev.at) / 1000
  const a = totals(prev.status)
  const b = totals(cur.status)
  const kafka = cur.status.platform?.queues.kafka
  const sample: TrendSample = {
    at: cur.at,
    // A restarted runner starts its counters at 0: no negative rates.
    eventsPerSec: Math.max(0, (b.handled - a.handled) / dt),
    httpPerSec: Math.max(0, (b.http - a.http) / dt),
    kafkaLag: kafka && !kafka.error ? kafka.lag.reduce((n, l) => n + l.lag, 0) : undefined,
    readModelLagSec: cur.status.platform?.projections.lagSeconds,
  }
  return [...history, sample].slice(-keep)
}

const BLOCKS = '▁▂▃▄▅▆▇█'

/** The last `width` values as a sparkline scaled to their maximum; gaps (undefined) are blank. */
export const sparkline = (values: readonly (number | undefined)[], width: number): string => {
  const shown = values.slice(-width)
  const max = Math.max(0, ...shown.filter((v): v is number => v !== undefined))
  const line = shown.map((v) => (v === undefined ? ' ' : max === 0 ? BLOCKS[0]! : BLOCKS[Math.min(7, Math.floor((v / max) * 7.999))]!)).join('')
  return line.padStart(width, ' ')
}
