import {describe, expect, it} from 'vitest'

import {initialKeyState, type KeyPress, type KeyState, onKey} from '../../src/ui/dash/keys.js'

const dlqs = [
  {name: 'order.created.dlq', messages: 3},
  {name: 'pulses.dlq', messages: 1},
]
const traces = [{traceId: 'a'.repeat(32)}, {traceId: 'b'.repeat(32)}, {traceId: 'c'.repeat(32)}]
/** Presses keys one after another from `from`; returns the last state and every effect. */
const press = (from: KeyState, ...keys: (string | KeyPress)[]) => {
  let state = from
  const effects: unknown[] = []
  for (const k of keys) {
    const r = typeof k === 'string' ? onKey(state, k, {}, dlqs, traces) : onKey(state, '', k, dlqs, traces)
    state = r.state
    if (r.effect) effects.push(r.effect)
  }
  return {state, effects}
}

describe('dashboard keys (a pure reducer)', () => {
  it('tab and the arrows move the focus around the panels, shift-tab back', () => {
    expect(press(initialKeyState, {tab: true}).state.focus).toBe('queues')
    expect(press(initialKeyState, {tab: true}, {tab: true}, {tab: true, shift: true}).state.focus).toBe('queues')
    expect(press(initialKeyState, {leftArrow: true}).state.focus).toBe('feed')
    expect(press(initialKeyState, {downArrow: true}).state.focus).toBe('projections')
  })

  it('in the Queues panel ↑↓ pick a DLQ (wrapping), and r asks before replaying it', () => {
    const {state} = press(initialKeyState, {tab: true}, {downArrow: true})
    expect(state.selectedDlq).toBe(1)
    expect(press(state, {downArrow: true}).state.selectedDlq).toBe(0)
    const asked = press(state, 'r').state
    expect(asked.mode).toEqual({kind: 'confirm', dlq: 'pulses.dlq', messages: 1})
    expect(press(asked, 'y').effects).toEqual([{kind: 'replay', dlq: 'pulses.dlq'}])
  })

  it('"yy" replays once: the second y finds the question answered', () => {
    const asked = press(initialKeyState, {tab: true}, 'r').state
    expect(press(asked, 'y', 'y').effects).toEqual([{kind: 'replay', dlq: 'order.created.dlq'}])
  })

  it('anything but y declines; r outside the Queues panel says what to do', () => {
    const asked = press(initialKeyState, 'v').state
    expect(asked.mode).toEqual({kind: 'confirm-projections', action: 'verify'})
    expect(press(asked, 'n')).toEqual({state: {...asked, mode: {kind: 'normal'}}, effects: []})
    expect(press(initialKeyState, 'b', 'Y').effects).toEqual([{kind: 'projections', action: 'rebuild'}])
    expect(press(initialKeyState, 'r').effects).toEqual([{kind: 'message', text: expect.stringContaining('select a DLQ')}])
  })

  it('while busy only q (and Ctrl+C) act; help closes on any key; f flushes', () => {
    const busy: KeyState = {...initialKeyState, mode: {kind: 'busy', what: 'flush'}}
    expect(press(busy, {tab: true}, 'f', 'v')).toEqual({state: busy, effects: []})
    expect(press(busy, 'q').effects).toEqual([{kind: 'quit'}])
    expect(onKey(busy, 'c', {ctrl: true}, dlqs).effect).toEqual({kind: 'quit'})
    expect(press(initialKeyState, '?', 'x').state.mode).toEqual({kind: 'normal'})
    expect(press(initialKeyState, 'f').effects).toEqual([{kind: 'flush'}])
  })

  it('in the Traces panel ↑↓ pick a trace (wrapping), Enter opens its waterfall, any key closes it', () => {
    const inTraces = press(initialKeyState, {downArrow: true}, {downArrow: true}).state
    expect(inTraces.focus).toBe('traces')
    const picked = press(inTraces, {upArrow: true}).state
    expect(picked.selectedTrace).toBe(2)
    const opened = press(picked, {return: true}).state
    expect(opened.mode).toEqual({kind: 'trace', traceId: 'c'.repeat(32)})
    expect(press(opened, 'x').state.mode).toEqual({kind: 'normal'})
    expect(press(opened, 'q').effects).toEqual([])
    expect(onKey(inTraces, '', {return: true}, dlqs, []).effect).toEqual({kind: 'message', text: 'no trace to open yet'})
    // Down from the second row of panels reaches the Traces and Trends row, then the feed.
    expect(press(initialKeyState, {tab: true}, {tab: true}, {tab: true}, {downArrow: true}).state.focus).toBe('trends')
    expect(press(inTraces, {tab: true}, {downArrow: true}).state.focus).toBe('feed')
  })
})
