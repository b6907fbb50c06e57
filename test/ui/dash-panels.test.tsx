/**
 * `mm dash` rendering and polling, against an in-memory DashSource (test/ui/fixtures.ts): every
 * panel shows the fixture's numbers, numbers follow the polls, polls never overlap, and a platform
 * that is down or a status() that throws shows in the affected panel while polling goes on.
 */
import {cleanup, render} from 'ink-testing-library'
import {afterEach, describe, expect, it, vi} from 'vitest'

import type {PlatformStatus} from '../../src/operations/status.js'
import {Dashboard} from '../../src/ui/dash/dashboard.js'
import {
  deferred,
  fakeSource,
  type FakeSource,
  feedEntry,
  frameMatching,
  healthyStatus,
  history,
  noPlatform,
  NUMBERS_A,
  NUMBERS_B,
  plain,
  type Numbers,
  runner,
  servers,
  snapshot,
  tick,
  until,
  widen,
} from './fixtures.js'

// Each wait has its own deadline (fixtures.DEADLINE_MS); a test makes several on a loaded machine.
vi.setConfig({testTimeout: 30_000})

afterEach(() => {
  cleanup()
  vi.restoreAllMocks()
})

/** The dashboard at 160 columns, where no panel truncates its columns. */
const show = (source: FakeSource, intervalMs = 50) => widen(render(<Dashboard source={source} intervalMs={intervalMs} interactive={false} onQuit={() => {}} />))

/** The one line of `frame` that matches `re` (for asserting the cells of a row). */
const line = (frame: string, re: RegExp) => frame.split('\n').find((l) => re.test(l)) ?? ''

describe('Dashboard panels', () => {
  it('renders every panel with the fixture numbers', async () => {
    const source = fakeSource()
    const inst = show(source)
    const f = await frameMatching(inst, ['Services (native)', 'pending keys 42', 'views 21/8/6'])

    // Services: servers, then one row per runner with its counters (ERRORS = failed + dead-lettered).
    expect(f).toMatch(/● postgres\s+● redis\s+● rabbitmq\s+● kafka\s+● mongo/)
    expect(f).toMatch(/RUNNER\s+STATE\s+UPTIME\s+HANDLED\s+ERRORS\s+REQ\/S/)
    expect(f).toMatch(/order\s+ready\s+2m05s\s+1234\s+3\s+0\.0/)
    expect(f).toMatch(/ingest\s+ready\s+2m05s\s+4096\s+0\s+0\.0/)
    expect(f).toMatch(/query\s+ready\s+2m05s\s+905\s+0/)

    // Queues: RabbitMQ rows, Kafka lag summed per group with the lagging topics, non-empty DLQs.
    expect(f).toMatch(/RABBITMQ QUEUE\s+READY\s+UNACKED\s+CONS\s+IN\/S\s+OUT\/S/)
    expect(f).toMatch(/pulses\s+17\s+3\s+2\s+12\.5\s+11/)
    expect(f).toMatch(/customer\.order-events\s+0\s+0\s+1\s+1\.5\s+1\.5/)
    expect(f).toContain('lag: product 0 · order 0 · query 12 (order.created 10, stock.reserved 2)')
    expect(f).toContain('pulses.dlq (rabbitmq) 4')
    expect(f).toContain('stock.reserved.dlq (kafka) 2')
    expect(f).not.toContain('order.created.dlq') // empty and not selected: hidden
    expect(f).not.toContain('DLQs empty')

    // Projections: write and read counts by status, lag, drift verdict, view counts, latest order.
    expect(f).toMatch(/ORDERS\s+PENDING\s+RESERVED\s+PAID\s+CANCELED/)
    expect(f).toMatch(/write\s+3\s+5\s+11\s+2\b/)
    expect(f).toMatch(/read\s+3\s+5\s+11\s+2\b/)
    expect(f).toContain('lag 0.4s · no drift · views 21/8/6')
    expect(f).toMatch(/0a1b2c3d PAID\s+R\$ 25,00 Ada Lovelace/)
    expect(f).not.toContain('¢')

    // Aggregates: pending keys, last and next flush, top aggregates with exact amounts.
    expect(f).toMatch(/last flush 5m0\ds ago \(40 keys\) · next in 2\ds/)
    expect(f).toContain('acme / SKU-1 / GB: 1234.5678')
    expect(f).toContain('globex / SKU-9 / req: 12.5')

    // Live events, before any arrives.
    expect(f).toContain('no events yet')
  })

  it('shows the live events subscribe delivers, newest first', async () => {
    const source = fakeSource()
    const inst = show(source)
    await frameMatching(inst, 'no events yet')
    expect(source.subscribers).toBe(1)
    source.emit(feedEntry({at: '2025-01-02T03:04:05.001Z', runner: 'order', type: 'order.created', id: 'o-1', outcome: 'published'}))
    source.emit(feedEntry({at: '2025-01-02T03:04:05.002Z', runner: 'product', type: 'order.created', id: 'o-1', outcome: 'handled'}))
    source.emit(
      feedEntry({
        at: '2025-01-02T03:04:05.003Z',
        runner: 'customer',
        type: 'order.created',
        id: 'o-2',
        outcome: 'dead-lettered',
        detail: 'customer c9 not found',
      }),
    )
    const f = await frameMatching(inst, 'customer c9 not found')
    const rows = f.split('\n').filter((l) => /03:04:05\.00\d/.test(l))
    expect(rows).toHaveLength(3)
    expect(rows[0]).toMatch(/03:04:05\.003 ✗ customer\s+order\.created\s+o-2 — customer c9 not found/)
    expect(rows[1]).toMatch(/03:04:05\.002 ✓ product\s+order\.created\s+o-1/)
    expect(rows[2]).toMatch(/03:04:05\.001 ↑ order\s+order\.created\s+o-1/)
    expect(f).not.toContain('no events yet')
  })

  it.each<[string, Partial<Numbers>, string, RegExp]>([
    ['no drift when both models agree', {}, 'lag 0.4s · no drift', /drift [A-Z]|catching up/],
    [
      'drift when they disagree and nothing is pending',
      {read: {...NUMBERS_A.read, PAID: 10, CANCELED: 1}},
      'lag 0.4s · drift PAID 11≠10, CANCELED 2≠1',
      /no drift|catching up/,
    ],
    [
      'catching up while the query consumer has events to apply',
      {read: {...NUMBERS_A.read, PAID: 10}, pendingEvents: 12},
      'lag 0.4s · catching up (12 events to apply)',
      /drift/,
    ],
  ])('projections: %s', async (_, numbers, expected, absent) => {
    const source = fakeSource({status: () => healthyStatus({...NUMBERS_A, ...numbers})})
    const f = await frameMatching(show(source), expected)
    expect(f).not.toMatch(absent)
  })

  it('says how old the projections counts are once a large read model is counted less often than it refreshes', async () => {
    const status = (): PlatformStatus => {
      const s = healthyStatus(NUMBERS_A)
      s.platform!.projections.measuredAt = new Date(Date.now() - 42_000).toISOString()
      return s
    }
    await frameMatching(show(fakeSource({status})), /views \d+\/\d+\/\d+ · counted 4[23]s ago/)
    const fresh = await frameMatching(show(fakeSource({status: () => healthyStatus(NUMBERS_A)})), 'lag 0.4s')
    expect(fresh).not.toContain('counted')
  })

  it('while the first count of a large read model is under way, says so and shows every other panel', async () => {
    const status = (): PlatformStatus => {
      const s = healthyStatus(NUMBERS_A)
      s.platform!.projections = {drift: [], counting: true}
      return s
    }
    const f = await frameMatching(show(fakeSource({status})), 'counting the views…')
    expect(f).toContain('Projections (MongoDB read model)')
    expect(f).toContain('pending keys 42')
    expect(f).toMatch(/order\s+ready/)
    expect(f).not.toContain('no data')
  })

  it('says when every DLQ is empty, when nothing was flushed yet, and when a flush was interrupted', async () => {
    const status = (): PlatformStatus => {
      const s = healthyStatus({...NUMBERS_A, pulsesDlq: 0, stockDlq: 0})
      s.platform!.aggregates = {pendingKeys: 0, pendingFlushes: 2, lastFlush: null, nextFlushAt: null, top: []}
      s.platform!.projections.lagSeconds = undefined
      return s
    }
    const f = await frameMatching(show(fakeSource({status})), 'all 4 DLQs empty')
    expect(f).not.toMatch(/\.dlq \(/)
    expect(f).toContain('pending keys 0 · 2 interrupted flush(es) pending')
    expect(f).toContain('last flush never · next in not scheduled')
    expect(f).toContain('lag n/a · no drift')
  })

  it('shows a disconnected live feed with its error, and entries again once it reconnects', async () => {
    const source = fakeSource({connected: false})
    const inst = show(source)
    await frameMatching(inst, ['Live events (disconnected)', 'no events yet'])
    source.setFeedState(false, 'connect ECONNREFUSED 127.0.0.1:56379')
    await frameMatching(inst, '✗ connect ECONNREFUSED 127.0.0.1:56379')
    source.setFeedState(true)
    source.emit(feedEntry({id: 'after-reconnect'}))
    const f = await frameMatching(inst, 'after-reconnect')
    expect(f).not.toContain('(disconnected)')
    expect(f).not.toContain('ECONNREFUSED')
  })
})

describe('Dashboard polling', () => {
  it('shows the new numbers of each poll', async () => {
    const source = fakeSource({status: (call) => healthyStatus(call === 1 ? NUMBERS_A : NUMBERS_B)})
    const inst = show(source)
    const f = await frameMatching(inst, 'pending keys 77')
    expect(f).toMatch(/order\s+ready\s+2m05s\s+5678\s+9\s/)
    expect(f).toMatch(/pulses\s+91\s+8\s+2\s+12\.5\s+11/)
    expect(f).toContain('query 33 (order.created 31, stock.reserved 2)')
    expect(f).toContain('pulses.dlq (rabbitmq) 6')
    expect(f).toMatch(/write\s+4\s+6\s+19\s+3\b/)
    expect(f).toMatch(/read\s+4\s+6\s+19\s+3\b/)
    expect(f).toContain('lag 2.5s · no drift · views 32/8/6')
    expect(f).toContain('acme / SKU-1 / GB: 9876.5432')
    expect(f).not.toContain('pending keys 42')

    // The first poll's numbers were on screen before the second's.
    const frames = history(inst)
    const firstA = frames.findIndex((x) => x.includes('pending keys 42'))
    const firstB = frames.findIndex((x) => x.includes('pending keys 77'))
    expect(firstA).toBeGreaterThanOrEqual(0)
    expect(firstB).toBeGreaterThan(firstA)
    expect(frames[firstA]).toMatch(/order\s+ready\s+2m05s\s+1234\s+3\s/)

    // Between the two polls the order runner served 2000 requests: its REQ/S goes above zero
    // (computed after the poll, so in a later frame), the idle product runner's stays 0.0.
    const rate = (frame: string, name: string) => Number(new RegExp(`${name}\\s+ready\\s+\\S+\\s+\\d+\\s+\\d+\\s+(\\d+\\.\\d)`).exec(frame)?.[1] ?? 0)
    const withRate = await until(
      () => history(inst).find((x) => rate(x, 'order') > 0),
      () => `no frame with a REQ/S for order; last frame:\n${history(inst).at(-1)}`,
    )
    expect(rate(withRate, 'product')).toBe(0)
    expect(line(withRate, /product\s+ready/)).toMatch(/product\s+ready\s+2m05s\s+310\s+0\s+0\.0/)
    expect(source.statusCalls).toBeGreaterThanOrEqual(2)
  })

  it('never overlaps polls, even when a poll takes longer than the interval', async () => {
    const source = fakeSource({status: () => new Promise<PlatformStatus>((resolve) => setTimeout(() => resolve(healthyStatus()), 40))})
    show(source, 5)
    await until(
      () => source.statusCalls >= 5,
      () => `only ${source.statusCalls} polls`,
    )
    expect(source.maxInFlight).toBe(1)
    // Each poll starts after the previous one finished.
    for (let i = 1; i < source.spans.length; i++) {
      const [start] = source.spans[i]!
      const [, previousEnd] = source.spans[i - 1]!
      expect(previousEnd).toBeDefined()
      expect(start).toBeGreaterThanOrEqual(previousEnd!)
    }
  })

  it('stops polling and unsubscribes on unmount', async () => {
    const held = deferred<PlatformStatus>()
    const source = fakeSource({status: (call) => (call === 2 ? held.promise : healthyStatus())})
    const inst = show(source, 1)
    await until(
      () => source.statusCalls === 2,
      () => `${source.statusCalls} polls`,
    )
    inst.unmount()
    expect(source.subscribers).toBe(0)
    held.resolve(healthyStatus()) // the poll in flight ends after the unmount
    await new Promise((resolve) => setImmediate(resolve)) // its continuation ran (and would have scheduled the next)
    await tick() // longer than the 1ms interval: a scheduled poll would have started
    expect(source.statusCalls).toBe(2)
  })
})

/**
 * status() answers `bad(call)` for the first `n` polls; the next poll waits until the test calls
 * `recover()`, then answers `good()`. So the bad frames stay on screen until checked, and a poll
 * after them proves that polling went on.
 */
const badThenGood = (n: number, bad: (call: number) => PlatformStatus, good: () => PlatformStatus) => {
  const gate = deferred<void>()
  const source = fakeSource({
    status: async (call) => {
      if (call <= n) return bad(call)
      await gate.promise
      return good()
    },
  })
  const stillPolling = () =>
    until(
      () => source.statusCalls > n,
      () => `polling stopped after ${source.statusCalls} call(s)`,
    )
  return {source, stillPolling, recover: () => gate.resolve()}
}

describe('Dashboard when the platform is down', () => {
  it('says the platform is not running (runtime none) and keeps polling until it is', async () => {
    const {source, stillPolling, recover} = badThenGood(2, noPlatform, () => healthyStatus())
    const inst = show(source)
    const down = await frameMatching(inst, '✗ platform not running (start it with mm up -d)')
    for (const title of ['Queues', 'Projections', 'Redis aggregates', 'Live events']) expect(down).toContain(title)
    await stillPolling()
    recover()
    const up = await frameMatching(inst, 'Services (native)')
    expect(up).toMatch(/order\s+ready\s+2m05s\s+1234/)
    expect(up).not.toContain('platform not running')
  })

  it('shows unhealthy servers with their errors and runners that are not running', async () => {
    const down = (): PlatformStatus => ({
      runtime: 'native',
      healthy: false,
      servers: servers({
        kafka: {healthy: false, error: 'kafka: no answer within 1500ms'},
        mongo: {healthy: false, error: 'connect ECONNREFUSED 127.0.0.1:57017'},
      }),
      supervisor: {running: false, error: 'supervisor 4242 is not running'},
      runners: [],
      platform: snapshot(NUMBERS_A),
    })
    const {source, stillPolling, recover} = badThenGood(2, down, () => healthyStatus(NUMBERS_B))
    const inst = show(source)
    const f = await frameMatching(inst, 'runners not running: supervisor 4242 is not running')
    expect(f).toMatch(/● postgres\s+● redis\s+● rabbitmq\s+✗ kafka\s+✗ mongo/)
    expect(f).toContain('kafka: kafka: no answer within 1500ms')
    expect(f).toContain('mongo: connect ECONNREFUSED 127.0.0.1:57017')
    expect(f).toContain('pending keys 42') // the rest still renders
    await stillPolling()
    recover()
    const up = await frameMatching(inst, 'pending keys 77')
    expect(up).not.toContain('not running')
    expect(up).not.toContain('✗')
  })

  it('shows the error of each platform part that failed, renders the others, and recovers', async () => {
    const broken = (): PlatformStatus => {
      const s = healthyStatus()
      s.platform!.queues.rabbitmq = {queues: [], error: 'management API answered 503'}
      s.platform!.queues.kafka = {lag: [], dlqs: [], error: 'KafkaJSConnectionError: Connection timeout'}
      s.platform!.projections = {drift: [], error: 'MongoServerSelectionError: connect ECONNREFUSED 127.0.0.1:57017'}
      s.platform!.aggregates = {error: 'Connection is closed.'}
      return s
    }
    const {source, stillPolling, recover} = badThenGood(2, broken, () => healthyStatus(NUMBERS_B))
    const inst = show(source)
    const f = await frameMatching(inst, '✗ Connection is closed.')
    expect(f).toContain('✗ RabbitMQ: management API answered 503')
    expect(f).toContain('✗ Kafka: KafkaJSConnectionError: Connection timeout')
    expect(f).toContain('✗ MongoServerSelectionError: connect ECONNREFUSED 127.0.0.1:57017')
    expect(f).not.toContain('RABBITMQ QUEUE')
    expect(f).not.toContain('lag:')
    expect(f).toMatch(/order\s+ready\s+2m05s\s+1234\s+3/) // Services unaffected
    await stillPolling()
    recover()
    const up = await frameMatching(inst, 'pending keys 77')
    expect(up).toContain('lag: product 0 · order 0 · query 33')
    expect(up).toMatch(/write\s+4\s+6\s+19\s+3\b/)
    expect(up).not.toContain('✗')
  })

  it('shows an error line when status() throws, keeps the last numbers, and recovers', async () => {
    const bad = (call: number) => {
      if (call === 1) return healthyStatus(NUMBERS_A)
      throw new Error('collector exploded')
    }
    const {source, stillPolling, recover} = badThenGood(3, bad, () => healthyStatus(NUMBERS_B))
    const inst = show(source)
    const failed = await frameMatching(inst, '✗ collector exploded (still trying)')
    expect(failed).toContain('pending keys 42') // the last good numbers stay on screen
    await stillPolling()
    recover()
    const recovered = await frameMatching(inst, 'pending keys 77')
    expect(recovered).not.toContain('collector exploded')
  })

  it('shows an error line when the very first status() rejects, then the numbers', async () => {
    const {source, stillPolling, recover} = badThenGood(
      1,
      () => {
        throw new Error('state file unreadable')
      },
      () => healthyStatus(),
    )
    const inst = show(source)
    const failed = await frameMatching(inst, '✗ state file unreadable (still trying)')
    expect(failed).toContain('waiting for the first poll…')
    await stillPolling()
    recover()
    const ok = await frameMatching(inst, 'pending keys 42')
    expect(ok).not.toContain('state file unreadable')
  })
})

describe('Dashboard request rates', () => {
  // A failed poll keeps the time of the last good one, so the next good poll divides its requests
  // by the time since the last real counters (100.0 here, not 200.0).
  it('REQ/S over a failed poll divides by the time between the two good polls', async () => {
    let clock = Date.now()
    vi.spyOn(Date, 'now').mockImplementation(() => clock)
    const withRequests = (httpRequests: number) => {
      const s = healthyStatus()
      s.runners[0] = runner('order', {handled: 1, httpRequests})
      return s
    }
    // Poll 3 waits until the failure is on screen, so the failure renders on its own.
    const third = deferred<void>()
    const source = fakeSource({
      status: async (call) => {
        if (call === 3) await third.promise
        clock += 1000 // each poll takes one (stubbed) second
        if (call === 1) return withRequests(1000)
        if (call === 2) throw new Error('gateway timeout')
        if (call === 3) return withRequests(1200) // 200 requests in the 2s since the first poll
        return new Promise<PlatformStatus>(() => {}) // hold the frame
      },
    })
    const inst = show(source)
    await frameMatching(inst, 'gateway timeout (still trying)')
    await tick() // the dashboard's effects for that frame ran
    third.resolve()
    // The first rate above zero is the one computed from polls 1 and 3.
    const f = await frameMatching(inst, /order\s+ready\s+\S+\s+1\s+0\s+(?!0\.0)\d+\.\d/)
    expect(source.statusCalls).toBeGreaterThanOrEqual(3)
    expect(f).toMatch(/order\s+ready\s+\S+\s+1\s+0\s+100\.0/) // not 200.0
  })
})

describe('Dashboard trends', () => {
  // The trends' new sample is computed in the same render as the counters it comes from: one
  // render per refresh (a sample added by an effect cost a second full render every second).
  it('a poll shows its counters and its trend sample in the same frame', async () => {
    let clock = Date.now()
    vi.spyOn(Date, 'now').mockImplementation(() => clock)
    const source = fakeSource({
      status: async (call) => {
        if (call > 3) return new Promise<PlatformStatus>(() => {}) // hold the last frame
        clock += 1000 // each poll takes one (stubbed) second
        const s = healthyStatus()
        s.runners[0] = runner('order', {handled: call * 100})
        return s
      },
    })
    const inst = show(source)
    await frameMatching(inst, /order\s+ready\s+\S+\s+300\s/)
    const byPoll = (handled: number) => inst.frames.map(plain).find((f) => new RegExp(`order\\s+ready\\s+\\S+\\s+${handled}\\s`).test(f)) ?? ''
    // Poll 1 has no rate yet; polls 2 and 3 each add 100 events in one second.
    expect(byPoll(100)).toContain('collecting…')
    expect(line(byPoll(200), /events\/s/)).toMatch(/\s100 max 100\s/)
    expect(line(byPoll(300), /events\/s/)).toMatch(/\s100 max 100\s/)
  })
})
