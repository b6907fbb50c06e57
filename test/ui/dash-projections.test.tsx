/**
 * `mm dash` and the read-model operations: the Projections panel shows the last verify and
 * rebuild (from the same snapshot as `mm status --json`), and `v` / `b` run a verify / rebuild
 * after a y/N, showing progress while they run and their one-line result after.
 */
import {cleanup, render} from 'ink-testing-library'
import {afterEach, describe, expect, it, vi} from 'vitest'

import {Dashboard} from '../../src/ui/dash/dashboard.js'
import {deferred, fakeSource, type FakeSourceOptions, frameMatching, healthyStatus, tick, widen} from './fixtures.js'

vi.setConfig({testTimeout: 30_000})

afterEach(() => {
  cleanup()
  vi.restoreAllMocks()
})

const start = async (options: FakeSourceOptions = {}) => {
  const source = fakeSource(options)
  const element = <Dashboard source={source} intervalMs={1000} interactive onQuit={() => {}} />
  const inst = widen(render(element))
  await frameMatching(inst, 'pending keys 42')
  await tick()
  const press = async (key: string, expected: string | ((f: string) => boolean)) => {
    inst.stdin.write(key)
    return frameMatching(inst, expected)
  }
  return {source, inst, press}
}

describe('Projections panel: last verify and rebuild', () => {
  it('says never before any run, and offers the keys', async () => {
    const {inst} = await start()
    expect(await frameMatching(inst, '[v] verify never · [b] rebuild never')).toBeTruthy()
  })

  it('shows when the last verify ran and what it found, and the last rebuild', async () => {
    const status = () => {
      const s = healthyStatus()
      const now = Date.now()
      s.platform!.projections.lastVerify = {
        at: new Date(now - 300_000).toISOString(),
        durationMs: 1200,
        ok: false,
        caughtUp: true,
        differences: 3,
        unsettled: 0,
        views: [],
      }
      s.platform!.projections.lastRebuild = {
        at: new Date(now - 3_600_000 - 60_000).toISOString(),
        durationMs: 2300,
        ok: true,
        swap: 'copy',
        interrupted: false,
        documents: 1353,
        changed: 5,
        views: ['orders_view'],
      }
      return s
    }
    const {inst} = await start({status})
    const f = await frameMatching(inst, 'verify 5m0')
    expect(f).toMatch(/\[v\] verify 5m0\ds ago: 3 differences · \[b\] rebuild 1h01m ago: verified/)
  })
})

describe('Projections keys', () => {
  it('v asks y/N; n cancels; y verifies, shows progress, then the result', async () => {
    const held = deferred<{text: string; ok: boolean}>()
    let report: ((p: never) => void) | undefined
    const {source, press, inst} = await start({verify: () => held.promise})
    // The fake records the progress callback through the Dashboard's call.
    const original = source.verify.bind(source)
    source.verify = (onProgress) => {
      report = onProgress as never
      return original(onProgress)
    }
    await press('v', 'Verify every document of the read model against the write models? [y/N]')
    await press('n', (f) => !f.includes('[y/N]'))
    expect(source.verifyCalls).toBe(0)
    await press('v', '[y/N]')
    await press('y', 'verify…')
    expect(source.verifyCalls).toBe(1)
    report!({stage: 'verify', view: 'orders_view', phase: 'scan', done: 500, total: 2000} as never)
    await press('x', 'verify… verify orders_view: scan 500/2,000') // keys are ignored while busy
    held.resolve({text: 'verify: 3 difference(s) — orders_view 3; mm projections verify lists them', ok: false})
    const f = await frameMatching(inst, 'verify: 3 difference(s) — orders_view 3')
    expect(f).not.toContain('verify…')
  })

  it('b asks y/N, then rebuilds and shows the result', async () => {
    const {source, press} = await start()
    await press('b', 'Rebuild the read model from the write models and swap it in while the platform runs? [y/N]')
    await press('y', 'rebuilt orders_view, products_view, customers_view from 1353 documents')
    expect(source.rebuildCalls).toBe(1)
    expect(source.verifyCalls).toBe(0)
  })

  it('shows why a rebuild failed', async () => {
    const {press} = await start({rebuild: () => Promise.reject(new Error('another rebuild of the views is running'))})
    await press('b', '[y/N]')
    await press('Y', 'rebuild failed: another rebuild of the views is running')
  })

  it('? lists v and b', async () => {
    const {press} = await start()
    const f = await press('?', 'move between panels')
    expect(f).toContain('verify the read model against the write models (asks y/N first)')
    expect(f).toContain('rebuild the read model and swap it in (asks y/N first)')
  })
})
