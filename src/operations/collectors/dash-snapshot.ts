import {errorMessage} from '../../lib/errors.js'
import type {PlatformStatus} from '../status.js'
import {RECENT_TRACES, type RecentTraceList} from './traces.js'
import {addSample, type DashTrends, type TrendSample, trendsJson} from './trends.js'

/**
 * `mm dash --json`: what `mm status --json` prints, plus the Traces panel's traces and the Trends
 * panel's series. The interactive dashboard never builds one (its panels poll on their own).
 */
export type DashSnapshot = PlatformStatus & {
  traces: RecentTraceList
  trends: DashTrends
}

export interface DashSnapshotDeps {
  /** One poll of the platform, as the dashboard's (`DashSource.status`). */
  status(): Promise<PlatformStatus>
  /** The failed and slowest recent traces (`recentTraces`). */
  traces(): Promise<RecentTraceList>
  now?: () => number
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
}

const sleepFor = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const done = () => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, {once: true})
  })

/**
 * Polls the platform `samples + 1` times, `intervalMs` apart as the dashboard does (a rate needs two
 * readings of the runners' counters), while the traces are read once. A platform that is not running
 * is polled once: no rates to wait for. An aborted signal, or a poll that fails after the first, ends
 * the sampling with what it has.
 */
export const collectDashSnapshot = async (deps: DashSnapshotDeps, o: {intervalMs: number; samples: number; signal?: AbortSignal}): Promise<DashSnapshot> => {
  const now = deps.now ?? Date.now
  const sleep = deps.sleep ?? sleepFor
  const traces = deps.traces().catch((error: unknown): RecentTraceList => ({
    windowMs: RECENT_TRACES.windowMs,
    since: new Date(now() - RECENT_TRACES.windowMs).toISOString(),
    stored: false,
    failed: [],
    slowest: [],
    error: errorMessage(error),
  }))
  let started = now()
  let last = {status: await deps.status(), at: now()}
  let history: TrendSample[] = []
  if (last.status.runtime !== 'none')
    for (let i = 0; i < o.samples; i++) {
      await sleep(Math.max(0, o.intervalMs - (now() - started)), o.signal)
      if (o.signal?.aborted) break
      started = now()
      // A poll that fails after the first ends the sampling: the snapshot keeps what it has.
      const status = await deps.status().catch(() => undefined)
      if (!status) break
      const cur = {status, at: now()}
      history = addSample(history, last, cur, o.samples)
      last = cur
    }
  return {...last.status, traces: await traces, trends: trendsJson(history, o.intervalMs)}
}
