import {spawn} from 'node:child_process'
import {type AddressInfo, createServer} from 'node:net'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {type Collector, createCollector} from '../../src/operations/collectors/index.js'
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
      const counted = async (after?: string) =>
        eventually(
          async () => {
            const s = await eager.collect()
            return s.projections.counting || s.projections.measuredAt === after ? undefined : s.projections
          },
          {what: 'a count that ended', timeoutMs: 30_000},
        )
      const failed = await counted()
      expect(failed.error).toMatch(/Server selection timed out/) // the driver gave up on the silent server
      expect(failed.read).toBeUndefined()
      // While the next try is under way, the failure stays on screen (not "counting" again)...
      const meanwhile = (await eager.collect()).projections
      expect(meanwhile.counting).toBeUndefined()
      expect(meanwhile.error).toEqual(failed.error)
      // ...and the next try is a real one: a new client, not the closed one ("Topology is closed").
      const again = await counted(failed.measuredAt)
      expect(again.error).toMatch(/Server selection timed out/)
    } finally {
      await eager.close()
      silent.close()
    }
  })

  it('opens no connection once closed, not even for a snapshot or probe that was in flight: its process exits by itself', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'support', 'collector-child.ts'), JSON.stringify(p.endpoints), p.ns('')],
      {stdio: ['ignore', 'pipe', 'pipe']},
    )
    let out = ''
    let err = ''
    child.stdout.on('data', (b: Buffer) => (out += b.toString()))
    child.stderr.on('data', (b: Buffer) => (err += b.toString()))
    let code: number | null | undefined
    child.on('exit', (c) => (code = c))
    try {
      // CLOSED is printed when its work is done; the process must then end on its own.
      await eventually(async () => (out.includes('CLOSED') ? true : undefined), {what: `the child to close its collector (stderr: ${err})`, timeoutMs: 60_000})
      await eventually(async () => (code !== undefined ? true : undefined), {what: `the child to exit once closed (stdout: ${out})`, timeoutMs: 15_000})
    } finally {
      if (code === undefined) child.kill('SIGKILL')
    }
    expect(code, err).toBe(0)
    const r = JSON.parse(out.split('\n')[0]!) as {firstKafkaError: string | null; inFlight: string[]; afterClose: string[]}
    expect(r.firstKafkaError).toBeNull()
    expect(r.inFlight).toHaveLength(5) // each answered or was refused, none hung
    expect(r.afterClose).toEqual(['rejected: the collector is closed', 'rejected: the collector is closed'])
  })
})
