import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {type Collector, createCollector} from '../../src/operations/collectors/index.js'
import {connectionsTo} from '../support/sockets.js'
import {eventually, startTestPlatform, type TestPlatform} from './harness.js'

/** The collector behind mm status and mm dash, on the real servers (no runners: the views are empty). */
let p: TestPlatform
let collector: Collector
let patient: Collector

beforeAll(async () => {
  p = await startTestPlatform({label: 'collector', runners: []})
  collector = createCollector(p.endpoints, p.logger, p.ns)
  // Rests a million times its read: within this test, never counts again.
  patient = createCollector(p.endpoints, p.logger, p.ns, {projectionsRest: 1_000_000})
})
afterAll(async () => {
  await Promise.all([collector?.close(), patient?.close()])
  await p?.stop()
})

describe('platform collector', () => {
  it('repeats the projections counts until they have rested, with the time they were read; the rest of the snapshot is fresh', async () => {
    const first = await patient.collect()
    expect(first.projections.error).toBeUndefined()
    expect(first.projections.read?.counts.orders).toBe(0)
    const measured = first.projections.measuredAt
    expect(measured).toEqual(expect.any(String))
    const again = await patient.collect()
    expect(again.projections).toBe(first.projections)
    expect(again.at >= first.at).toBe(true)
  })

  it('counts anew once rested (by default ten times as long as the last read took)', async () => {
    const measured = (await collector.collect()).projections.measuredAt
    await eventually(async () => ((await collector.collect()).projections.measuredAt !== measured ? true : undefined), {
      what: 'a new count of the projections',
      timeoutMs: 30_000,
    })
  })

  it('opens no connection once closed, not even for a snapshot or probe that was in flight (a quit mm dash exits)', async () => {
    const e = p.endpoints
    // The servers it holds connections to (the management API's HTTP keep-alive is not its own).
    const ports = [e.postgres, e.redis, e.mongo, `kafka://${e.kafka[0]}`].map((u) => Number(new URL(u).port))
    const before = JSON.stringify(connectionsTo(ports))
    const c = createCollector(e, p.logger, p.ns)
    await c.collect() // every client connected
    expect(JSON.stringify(connectionsTo(ports))).not.toBe(before)
    const inFlight = [c.collect(), c.prober('kafka', e, 3000), c.prober('redis', e, 3000), c.prober('postgres', e, 3000)]
    await c.close()
    await Promise.allSettled(inFlight)
    await expect(c.collect()).rejects.toThrow(/closed/)
    await expect(c.prober('mongo', e, 3000)).rejects.toThrow(/closed/)
    const after = await eventually(async () => (JSON.stringify(connectionsTo(ports)) === before ? before : undefined), {
      what: `the closed collector's connections gone (ports ${ports.join(',')} before: ${before}, now: ${JSON.stringify(connectionsTo(ports))})`,
      timeoutMs: 15_000,
    })
    expect(after).toBe(before)
  })
})
