import {describe, expect, it, vi} from 'vitest'

import {collectDashSnapshot} from '../../src/operations/collectors/dash-snapshot.js'
import type {RecentTraceList} from '../../src/operations/collectors/traces.js'
import type {PlatformStatus} from '../../src/operations/status.js'
import {traceRows} from '../../src/ui/dash/traces-panel.js'
import {healthyStatus, noPlatform, NUMBERS_A, NUMBERS_B, recentTraces} from './fixtures.js'

/** Polls answering `polls` in turn (an Error fails that poll), on a clock that moves only when a poll takes its 50 ms or the snapshot sleeps. */
const clocked = (polls: (PlatformStatus | Error)[], traces: () => Promise<RecentTraceList>) => {
  let t = 0
  const status = vi.fn(async () => {
    t += 50
    const answer = polls[Math.min(status.mock.calls.length - 1, polls.length - 1)]!
    if (answer instanceof Error) throw answer
    return answer
  })
  const sleep = vi.fn(async (ms: number) => void (t += ms))
  return {status, sleep, deps: {status, traces, sleep, now: () => Date.UTC(2025, 0, 2, 3, 4, 5) + t}}
}

/** The Traces panel's data with what `mm dash --json` adds to each trace. */
const traceList = (): RecentTraceList => {
  const r = recentTraces(true)
  const detail = (t: (typeof r.slowest)[number]) => ({
    ...t,
    component: 'order',
    error: t.failed ? {span: 'process order.paid', message: 'card declined'} : null,
  })
  return {windowMs: 300_000, since: '2025-01-02T02:59:05.000Z', stored: true, failed: r.failed.map(detail), slowest: r.slowest.map(detail)}
}

describe('mm dash --json', () => {
  it("is mm status's JSON plus the Traces panel's traces and the Trends panel's series", async () => {
    const {deps, status, sleep} = clocked([healthyStatus(NUMBERS_A), healthyStatus(NUMBERS_B), healthyStatus(NUMBERS_B)], async () => traceList())
    const snap = await collectDashSnapshot(deps, {intervalMs: 1000, samples: 2})

    // Three polls a second apart (the first only sets the counters' base), each waiting out the interval.
    expect(status).toHaveBeenCalledTimes(3)
    expect(sleep.mock.calls.map(([ms]) => ms)).toEqual([950, 950])
    const {traces, trends, ...rest} = snap
    expect(rest).toEqual(healthyStatus(NUMBERS_B, Date.parse(rest.platform!.at)))

    expect(traces.stored).toBe(true)
    expect(traces.failed[0]).toEqual({
      traceId: 'f'.repeat(32),
      root: 'POST /orders/:id/pay',
      component: 'order',
      components: ['order', 'product', 'query'],
      aggregateId: 'order-ffff',
      startedAt: '2025-01-02T03:04:05.000Z',
      durationMs: 80,
      spans: 12,
      failed: true,
      error: {span: 'process order.paid', message: 'card declined'},
    })
    // The panel's rows, from the same lists: failed first, then the slowest, each once.
    expect(traceRows(traces).map((t) => [t.traceId[0], t.durationMs, t.error?.message ?? null])).toEqual([
      ['f', 80, 'card declined'],
      ['a', 1450, null],
      ['b', 320, null],
    ])

    expect(trends).toEqual({
      intervalMs: 1000,
      at: ['2025-01-02T03:04:06.050Z', '2025-01-02T03:04:07.050Z'],
      measures: {
        // order (5678 + 7) − (1234 + 2) events in 1 s; the other runners stood still.
        eventsPerSec: {label: 'events/s', unit: 'events/s', current: 0, max: 4449, series: [4449, 0]},
        httpPerSec: {label: 'http req/s', unit: 'requests/s', current: 0, max: 2000, series: [2000, 0]},
        kafkaLag: {label: 'kafka lag', unit: 'messages', current: 33, max: 33, series: [33, 33]},
        readModelLagSec: {label: 'read-model lag', unit: 's', current: 2.5, max: 2.5, series: [2.5, 2.5]},
      },
    })
    // Plain JSON: nothing undefined, nothing lost on the way through JSON.stringify.
    expect(JSON.parse(JSON.stringify(snap))).toEqual(snap)
  })

  it('gives null where a poll had no value, and keeps the samples it took when a later poll fails', async () => {
    const down = {...healthyStatus(NUMBERS_B), platform: undefined}
    const {deps, status} = clocked([healthyStatus(NUMBERS_A), down, new Error('gateway gone')], async () => traceList())
    const {trends} = await collectDashSnapshot(deps, {intervalMs: 1000, samples: 5})
    expect(status).toHaveBeenCalledTimes(3)
    expect(trends.at).toHaveLength(1)
    expect(trends.measures.kafkaLag).toEqual({label: 'kafka lag', unit: 'messages', current: null, max: null, series: [null]})
    expect(trends.measures.httpPerSec.series).toEqual([2000])
  })

  it('on a platform that is not running: one poll, no wait, the traces say why they are missing', async () => {
    const {deps, status, sleep} = clocked([noPlatform()], () => Promise.reject(new Error('the platform is not running, so there is no trace to read')))
    const snap = await collectDashSnapshot(deps, {intervalMs: 1000, samples: 3})
    expect(status).toHaveBeenCalledTimes(1)
    expect(sleep).not.toHaveBeenCalled()
    expect(snap.runtime).toBe('none')
    expect(snap.traces).toMatchObject({
      stored: false,
      failed: [],
      slowest: [],
      windowMs: 300_000,
      error: 'the platform is not running, so there is no trace to read',
    })
    expect(snap.trends.at).toEqual([])
    expect(Object.values(snap.trends.measures).map((m) => [m.current, m.max, m.series])).toEqual(Array(4).fill([null, null, []]))
  })

  it('an interrupt ends the sampling with the samples taken so far', async () => {
    const controller = new AbortController()
    const {deps, status} = clocked([healthyStatus(NUMBERS_A), healthyStatus(NUMBERS_B)], async () => traceList())
    deps.sleep = vi.fn(async () => {
      if (status.mock.calls.length === 2) controller.abort()
    })
    const snap = await collectDashSnapshot(deps, {intervalMs: 1000, samples: 10, signal: controller.signal})
    expect(status).toHaveBeenCalledTimes(2)
    expect(snap.trends.at).toHaveLength(1)
  })
})
