import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'

import type {RebuildResult, VerifyResult} from '../../src/operations/projections/index.js'
import {describeRuns, renderRebuild, renderVerify} from '../../src/ui/text/projections.js'

// terminal() caches its answer on first use: set NO_COLOR before anything renders.
beforeAll(() => {
  vi.stubEnv('NO_COLOR', '1')
})
afterAll(() => {
  vi.unstubAllEnvs()
})

const view = (name: 'customers_view' | 'products_view' | 'orders_view', rows: number, extra: Partial<VerifyResult['views'][number]> = {}) => ({
  view: name,
  rows,
  documents: rows,
  matching: rows,
  differing: 0,
  missing: 0,
  extra: 0,
  unsettled: 0,
  untracked: 0,
  ...extra,
})

const clean: VerifyResult = {
  at: '2026-03-01T10:00:00.000Z',
  ok: true,
  catchUp: {caughtUp: true, waitedMs: 40, unpublished: 0, pendingEvents: 0},
  views: [view('customers_view', 50), view('products_view', 100), view('orders_view', 1200)],
  total: 0,
  differences: [],
  unsettled: 0,
  rows: 1350,
  documents: 1350,
  durationMs: 1500,
  docsPerSec: 900,
  interrupted: false,
}

describe('renderVerify', () => {
  it('a clean read model: the table and one line', () => {
    const text = renderVerify(clean)
    expect(text).toMatch(/VIEW\s+WRITE ROWS\s+DOCUMENTS\s+MATCHING\s+DIFFERING\s+MISSING\s+EXTRA/)
    expect(text).toMatch(/orders_view\s+1,200\s+1,200\s+1,200\s+0\s+0\s+0/)
    expect(text).toContain('✓ the read model equals the write models: 1,350 documents in 1.5s (900/s)')
  })

  it('differences with both values, missing and extra documents, lag and unsettled notes', () => {
    const text = renderVerify({
      ...clean,
      ok: false,
      catchUp: {caughtUp: false, waitedMs: 120_000, unpublished: 0, pendingEvents: 42},
      views: [
        view('customers_view', 50),
        view('products_view', 100, {extra: 1, documents: 101}),
        view('orders_view', 1200, {differing: 1, missing: 1, matching: 1198, documents: 1199}),
      ],
      total: 3,
      unsettled: 2,
      differences: [
        {
          view: 'orders_view',
          id: 'o-1',
          kind: 'differs',
          fields: [
            {field: 'status', expected: 'PAID', actual: 'CANCELED'},
            {field: 'items[1]', expected: {sku: 'A'}, actual: null},
          ],
        },
        {view: 'orders_view', id: 'o-2', kind: 'missing', fields: [], expected: {id: 'o-2', status: 'PAID'}},
        {view: 'products_view', id: 'p-9', kind: 'extra', fields: [], actual: {sku: 'GHOST'}},
      ],
    })
    expect(text).toMatch(/orders_view o-1\n {2}status\s+expected PAID\s+actual CANCELED\n {2}items\[1\]\s+expected \{"sku":"A"\}\s+actual null/)
    expect(text).toContain('orders_view o-2  missing from the view; the write model has {"id":"o-2","status":"PAID"}')
    expect(text).toContain('products_view p-9  extra: not in the write model; the view has {"sku":"GHOST"}')
    expect(text).toContain('! the read model had not caught up (0 unpublished, 42 events to apply after 2m00s): some differences may only be lag')
    expect(text).toContain('2 documents kept changing while checked and are not counted')
    expect(text).toContain('✗ 3 differences in 2 views — checked 1,350 documents')
  })

  it('says how to see more when only the first N are shown', () => {
    const text = renderVerify({
      ...clean,
      ok: false,
      total: 30,
      differences: [{view: 'orders_view', id: 'o-1', kind: 'missing', fields: []}],
      views: [view('orders_view', 30, {missing: 30})],
    })
    expect(text).toContain('30 differences in 1 view; the first 1 shown (--limit N for more, --json for every field)')
  })
})

const rebuilt: RebuildResult = {
  at: '2026-03-01T10:00:00.000Z',
  plan: {swap: 'copy', views: [{view: 'orders_view', rows: 1200, documents: 1199}]},
  dryRun: false,
  declined: false,
  interrupted: false,
  swap: 'copy',
  views: [{view: 'orders_view', built: 1200, caughtUp: 7, written: 3, removed: 1, afterSwap: 0}],
  documents: 1200,
  docsPerSec: 2400,
  durationMs: 900,
  verify: clean,
  ok: true,
}

describe('renderRebuild', () => {
  it('a rebuild: per view what was built and changed, the swap, then the verify', () => {
    const text = renderRebuild(rebuilt)
    expect(text).toMatch(/VIEW\s+BUILT\s+CAUGHT UP\s+WRITTEN\s+REMOVED\s+AFTER SWAP\norders_view\s+1,200\s+7\s+3\s+1\s+0/)
    expect(text).toContain('✓ rebuilt 1 view from 1,200 documents (2,400/s), swapped in by copy (4 documents of the live views changed)')
    expect(text).toContain('✓ the read model equals the write models')
    expect(renderRebuild({...rebuilt, swap: 'rename'})).toContain('renamed in (atomic)')
  })

  it('dry run, declined, interrupted', () => {
    expect(renderRebuild({...rebuilt, dryRun: true, views: [], verify: undefined})).toContain(
      'Dry run: would rebuild 1 view (1,200 documents) into shadow collections and swap them in by copy. Nothing changed.',
    )
    expect(renderRebuild({...rebuilt, declined: true})).toBe('Nothing rebuilt.')
    expect(renderRebuild({...rebuilt, interrupted: true})).toContain('the live views are untouched')
  })
})

describe('describeRuns', () => {
  it('when, and what the runs found', () => {
    const now = Date.parse('2026-03-01T10:10:00.000Z')
    const runs = describeRuns(
      {
        verify: {at: '2026-03-01T10:00:00.000Z', durationMs: 1, ok: false, caughtUp: false, differences: 1, unsettled: 0, views: []},
        rebuild: {at: '2026-03-01T10:09:00.000Z', durationMs: 1, ok: false, swap: 'copy', interrupted: true, documents: 0, changed: 0, views: []},
      },
      now,
    )
    expect(runs).toEqual({verify: '10m00s ago: 1 difference (not caught up)', rebuild: '1m00s ago: interrupted'})
    expect(describeRuns(undefined)).toEqual({verify: 'never', rebuild: 'never'})
  })
})
