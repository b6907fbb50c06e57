/**
 * The dashboard's keys as a pure function: (state, key) → next state and what to do. The
 * component keeps the state in a ref read by one stable handler, so Ink subscribes to stdin once,
 * and two keys arriving before a re-render ("yy", two quick tabs) each see the state the previous
 * one left.
 */
export const PANELS = ['services', 'queues', 'projections', 'aggregates', 'traces', 'trends', 'feed'] as const
export type PanelName = (typeof PANELS)[number]

export type ProjectionsAction = 'verify' | 'rebuild'
export type Mode =
  | {kind: 'normal'}
  | {kind: 'help'}
  | {kind: 'confirm'; dlq: string; messages: number}
  | {kind: 'confirm-projections'; action: ProjectionsAction}
  | {kind: 'busy'; what: string}
  /** The waterfall of a trace chosen in the Traces panel, over the panels until a key is pressed. */
  | {kind: 'trace'; traceId: string}
  /** Typing the live feed's filter after `/`: Enter applies it, Esc leaves it as it was. */
  | {kind: 'filter'; text: string}

export interface KeyState {
  mode: Mode
  focus: PanelName
  /** Index into the DLQ rows of the Queues panel. */
  selectedDlq: number
  /** Index into the rows of the Traces panel. */
  selectedTrace: number
  /** The live feed shows only entries with every word of this (empty: all). */
  filter: string
}

export const initialKeyState: KeyState = {mode: {kind: 'normal'}, focus: 'services', selectedDlq: 0, selectedTrace: 0, filter: ''}

/** The parts of Ink's `Key` the dashboard reads. */
export interface KeyPress {
  ctrl?: boolean
  shift?: boolean
  tab?: boolean
  upArrow?: boolean
  downArrow?: boolean
  leftArrow?: boolean
  rightArrow?: boolean
  return?: boolean
  escape?: boolean
  backspace?: boolean
  delete?: boolean
  meta?: boolean
}

/** What a key asks the component to do besides changing the state. */
export type KeyEffect =
  {kind: 'quit'} | {kind: 'flush'} | {kind: 'replay'; dlq: string} | {kind: 'projections'; action: ProjectionsAction} | {kind: 'message'; text: string}

/**
 * One key: the next state, and the effect if any. `dlqs` are the Queues panel's DLQ rows as
 * shown, `traces` the Traces panel's.
 */
export const onKey = (
  s: KeyState,
  input: string,
  key: KeyPress,
  dlqs: readonly {name: string; messages: number}[],
  traces: readonly {traceId: string}[] = [],
): {state: KeyState; effect?: KeyEffect} => {
  const normal: Mode = {kind: 'normal'}
  if (key.ctrl && input === 'c') return {state: s, effect: {kind: 'quit'}}
  const {mode, focus} = s
  if (mode.kind === 'help' || mode.kind === 'trace') return {state: {...s, mode: normal}}
  if (mode.kind === 'filter') {
    if (key.return) return {state: {...s, mode: normal, filter: mode.text.trim()}}
    if (key.escape) return {state: {...s, mode: normal}}
    if (key.backspace || key.delete) return {state: {...s, mode: {kind: 'filter', text: mode.text.slice(0, -1)}}}
    if (input && !key.ctrl && !key.meta && !key.tab && [...input].every((c) => c >= ' '))
      return {state: {...s, mode: {kind: 'filter', text: mode.text + input}}}
    return {state: s}
  }
  if (mode.kind === 'busy') return input === 'q' ? {state: s, effect: {kind: 'quit'}} : {state: s}
  const yes = input === 'y' || input === 'Y'
  if (mode.kind === 'confirm') return {state: {...s, mode: normal}, effect: yes ? {kind: 'replay', dlq: mode.dlq} : undefined}
  if (mode.kind === 'confirm-projections') return {state: {...s, mode: normal}, effect: yes ? {kind: 'projections', action: mode.action} : undefined}
  if (input === 'q') return {state: s, effect: {kind: 'quit'}}
  if (input === '?') return {state: {...s, mode: {kind: 'help'}}}
  if (input === '/') return {state: {...s, mode: {kind: 'filter', text: s.filter}}}
  if (key.escape && s.filter) return {state: {...s, filter: ''}}
  const i = PANELS.indexOf(focus)
  const to = (f: PanelName) => ({state: {...s, focus: f}})
  if ((key.tab && !key.shift) || key.rightArrow) return to(PANELS[(i + 1) % PANELS.length]!)
  if ((key.tab && key.shift) || key.leftArrow) return to(PANELS[(i + PANELS.length - 1) % PANELS.length]!)
  if (focus === 'queues' && (key.upArrow || key.downArrow) && dlqs.length > 0) {
    const current = Math.min(s.selectedDlq, dlqs.length - 1)
    return {state: {...s, selectedDlq: (current + (key.downArrow ? 1 : dlqs.length - 1)) % dlqs.length}}
  }
  if (focus === 'traces' && (key.upArrow || key.downArrow) && traces.length > 0) {
    const current = Math.min(s.selectedTrace, traces.length - 1)
    return {state: {...s, selectedTrace: (current + (key.downArrow ? 1 : traces.length - 1)) % traces.length}}
  }
  if (focus === 'traces' && key.return) {
    const t = traces[Math.min(s.selectedTrace, Math.max(0, traces.length - 1))]
    return t ? {state: {...s, mode: {kind: 'trace', traceId: t.traceId}}} : {state: s, effect: {kind: 'message', text: 'no trace to open yet'}}
  }
  if (key.upArrow) return to(PANELS[Math.max(0, i - 2)]!)
  if (key.downArrow) return to(PANELS[Math.min(PANELS.length - 1, i + 2)]!)
  if (input === 'f') return {state: s, effect: {kind: 'flush'}}
  if (input === 'v' || input === 'b') return {state: {...s, mode: {kind: 'confirm-projections', action: input === 'v' ? 'verify' : 'rebuild'}}}
  if (input === 'r') {
    const dlq = dlqs[Math.min(s.selectedDlq, Math.max(0, dlqs.length - 1))]
    if (focus !== 'queues' || !dlq) return {state: s, effect: {kind: 'message', text: 'select a DLQ in the Queues panel first (tab to it, ↑↓ to choose)'}}
    return {state: {...s, mode: {kind: 'confirm', dlq: dlq.name, messages: dlq.messages}}}
  }
  return {state: s}
}
