import {describe, expect, it} from 'vitest'

import type {FeedEntry} from '../../services/shared/events-feed.js'
import {feedLines, GROUP_ABOVE, matchesFilter} from '../../src/ui/dash/feed.js'
import {initialKeyState, type KeyPress, type KeyState, onKey} from '../../src/ui/dash/keys.js'

const entry = (i: number, o: Partial<FeedEntry> = {}): FeedEntry => ({
  at: `2025-01-02T03:04:05.${String(i).padStart(3, '0')}Z`,
  runner: 'ingest',
  type: 'pulse',
  id: `p-${i}`,
  outcome: 'handled',
  ...o,
})

describe('the live feed', () => {
  it('shows a quiet refresh entry by entry, newest first', () => {
    const batch = [entry(1), entry(2, {runner: 'order', type: 'order.created'}), entry(3)]
    expect(feedLines(batch).map((l) => [l.id, l.count])).toEqual([
      ['p-3', 1],
      ['p-2', 1],
      ['p-1', 1],
    ])
  })

  it('groups a busy refresh by runner, type and outcome, keeping the newest of each and every dead letter', () => {
    const batch = [
      ...Array.from({length: 500}, (_, i) => entry(i)),
      entry(600, {runner: 'query', type: 'order.paid'}),
      entry(601, {outcome: 'dead-lettered', detail: 'bad pulse'}),
      entry(602, {outcome: 'dead-lettered', detail: 'bad pulse'}),
      entry(603),
    ]
    expect(batch.length).toBeGreaterThan(GROUP_ABOVE)
    expect(feedLines(batch).map((l) => [l.runner, l.outcome, l.id, l.count])).toEqual([
      ['ingest', 'handled', 'p-603', 501],
      ['ingest', 'dead-lettered', 'p-602', 1],
      ['ingest', 'dead-lettered', 'p-601', 1],
      ['query', 'handled', 'p-600', 1],
    ])
  })

  it('filters by every word, case-insensitive, over runner, type, outcome, id and detail', () => {
    const e = entry(1, {runner: 'order', type: 'stock.reserved', id: 'ABC-1', detail: 'order RESERVED'})
    expect(matchesFilter(e, '')).toBe(true)
    expect(matchesFilter(e, 'order abc')).toBe(true)
    expect(matchesFilter(e, 'Reserved handled')).toBe(true)
    expect(matchesFilter(e, 'order paid')).toBe(false)
  })
})

describe('the / filter keys', () => {
  const press = (from: KeyState, ...keys: (string | KeyPress)[]) =>
    keys.reduce((s, k) => (typeof k === 'string' ? onKey(s, k, {}, []) : onKey(s, '', k, [])).state, from)

  it('/ opens the filter with the current text; typing, backspace, Enter applies it; Esc cancels; Esc in normal mode clears', () => {
    const typing = press(initialKeyState, '/', 'o', 'r', 'x', {backspace: true}, ' ', 'q', 'f')
    expect(typing.mode).toEqual({kind: 'filter', text: 'or qf'})
    // q and f are text while typing: no quit, no flush.
    expect(onKey(typing, 'q', {}, []).effect).toBeUndefined()
    const applied = press(typing, {return: true})
    expect(applied).toMatchObject({mode: {kind: 'normal'}, filter: 'or qf'})
    expect(press(applied, '/').mode).toEqual({kind: 'filter', text: 'or qf'})
    expect(press(applied, '/', 'z', {escape: true})).toMatchObject({mode: {kind: 'normal'}, filter: 'or qf'})
    expect(press(applied, {escape: true}).filter).toBe('')
    expect(press(initialKeyState, '/', '\t', {return: true}).filter).toBe('')
  })
})
