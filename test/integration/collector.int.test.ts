import {type AddressInfo, createServer} from 'node:net'

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

  it('on screen, a snapshot does not wait for the views to be counted: it says counting, and the count reports when it ends', async () => {
    // A Mongo server that accepts connections and never answers: the count cannot finish before
    // the driver gives up (server selection, 2 s).
    const silent = createServer(() => {})
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r))
    const port = (silent.address() as AddressInfo).port
    const eager = createCollector({...p.endpoints, mongo: `mongodb://127.0.0.1:${port}/`}, p.logger, p.ns, {projectionsWaitMs: 0})
    try {
      const first = await eager.collect()
      expect(first.projections).toEqual({drift: [], counting: true})
      expect(first.queues.kafka.error).toBeUndefined() // everything else is there at once
      expect(first.aggregates.error).toBeUndefined()
      const later = await eventually(
        async () => {
          const s = await eager.collect()
          return s.projections.counting ? undefined : s
        },
        {what: 'the count ended in a later snapshot', timeoutMs: 30_000},
      )
      expect(later.projections.error).toEqual(expect.any(String)) // the driver gave up on the silent server
      expect(later.projections.read).toBeUndefined()
    } finally {
      await eager.close()
      silent.close()
    }
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
