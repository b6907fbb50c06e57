import type {PlatformStatus} from '../status.js'

/**
 * The dashboard's trends: a few numbers per poll, kept for the last minutes. Pure functions; the
 * Trends panel (src/ui/dash/) keeps the history and draws it, `mm dash --json` takes a few polls
 * and prints it (`trendsJson`).
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

export type TrendKey = Exclude<keyof TrendSample, 'at'>

/** The measures, in the panel's order: the panel's label, the unit the JSON names, the panel's suffix. */
export const TREND_MEASURES: readonly {key: TrendKey; label: string; unit: string; suffix: string}[] = [
  {key: 'eventsPerSec', label: 'events/s', unit: 'events/s', suffix: ''},
  {key: 'httpPerSec', label: 'http req/s', unit: 'requests/s', suffix: ''},
  {key: 'kafkaLag', label: 'kafka lag', unit: 'messages', suffix: ''},
  {key: 'readModelLagSec', label: 'read-model lag', unit: 's', suffix: 's'},
]

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

/** One measure of `mm dash --json`'s trends. Values are null where the poll had none (a server down). */
export interface TrendMeasure {
  label: string
  unit: string
  /** The newest sample's value. */
  current: number | null
  /** The largest value of the series. */
  max: number | null
  /** One value per sample, oldest first, aligned with `DashTrends.at`. */
  series: (number | null)[]
}

/** The Trends panel's data as `mm dash --json` prints it. */
export interface DashTrends {
  /** The interval asked for between polls (`at` says when each sample was taken; each is the rate since the poll before it). */
  intervalMs: number
  /** When each sample was taken (ISO 8601), oldest first. */
  at: string[]
  measures: Record<TrendKey, TrendMeasure>
}

const round = (v: number | undefined): number | null => (v === undefined || !Number.isFinite(v) ? null : Math.round(v * 100) / 100)

export const trendsJson = (history: readonly TrendSample[], intervalMs: number): DashTrends => {
  const measures = Object.fromEntries(
    TREND_MEASURES.map(({key, label, unit}) => {
      const series = history.map((s) => round(s[key]))
      const present = series.filter((v): v is number => v !== null)
      return [key, {label, unit, current: series.at(-1) ?? null, max: present.length > 0 ? Math.max(...present) : null, series}]
    }),
  ) as Record<TrendKey, TrendMeasure>
  return {intervalMs, at: history.map((s) => new Date(s.at).toISOString()), measures}
}
