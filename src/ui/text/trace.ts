import {formatMs, type TraceListResult, type TraceResult, type Waterfall, type WaterfallSpan} from '../../operations/trace.js'
import {table} from '../table.js'
import {style, terminal} from '../terminal.js'

const BAR = 24

/** The bar of a span on the trace's time axis: where it starts and how long it lasts, in BAR cells. */
export const spanBar = (startMs: number, durationMs: number, totalMs: number, width = BAR): string => {
  if (totalMs <= 0) return '█'.padEnd(width, ' ')
  const from = Math.min(width - 1, Math.floor((startMs / totalMs) * width))
  const len = Math.max(1, Math.min(width - from, Math.round((durationMs / totalMs) * width)))
  return ' '.repeat(from) + '█'.repeat(len) + ' '.repeat(width - from - len)
}

/** What a hop waited before it ran (in the outbox, in the broker), for the WAIT column. */
const waitText = (s: WaterfallSpan): string => (s.waitMs === null || s.waitIn === null ? '' : `${formatMs(s.waitMs)} in ${s.waitIn}`)

/**
 * Milliseconds covered by the union of the intervals `[startMs, startMs + durationMs]`, counting
 * only what falls within `clip` when given: the wall time spent in them, each moment counted once
 * however many overlap (concurrent database calls, a call nested in another).
 */
export const unionMs = (spans: readonly {startMs: number; durationMs: number}[], clip?: {from: number; to: number}): number => {
  let total = 0
  let covered = clip?.from ?? -Infinity
  const limit = clip?.to ?? Infinity
  // By start: each interval adds only the part of it past what the earlier ones covered.
  for (const s of [...spans].sort((a, b) => a.startMs - b.startMs)) {
    const start = Math.max(s.startMs, covered)
    const end = Math.min(limit, s.startMs + Math.max(0, s.durationMs))
    if (end <= start) continue
    total += end - start
    covered = end
  }
  return total
}

/** One microsecond: span times are stored in microseconds, so closer than this is the same instant. */
const EPSILON_MS = 0.001

/**
 * What a hop's folded database calls took: their count and the wall time in them while the hop
 * ran, then the calls that ran (partly) outside the hop, with the time they add. Calls outside are
 * calls made in the hop's context after it ended (work it started that outlived it).
 */
export const dbCallsText = (hop: WaterfallSpan, calls: readonly WaterfallSpan[]): string => {
  const from = hop.startMs
  const to = hop.startMs + hop.durationMs
  const inside = unionMs(calls, {from, to})
  const outside = calls.filter((c) => c.startMs < from - EPSILON_MS || c.startMs + c.durationMs > to + EPSILON_MS)
  const text = `${calls.length} db call${calls.length === 1 ? '' : 's'}, ${formatMs(inside)} in db`
  if (outside.length === 0) return text
  return `${text} during the hop, ${outside.length} outside it (+${formatMs(unionMs(calls) - inside)})`
}

/**
 * The hops of a trace, one line each, with the database calls they made folded into a count and
 * the wall time they took (`dbCallsText`; all of them with `all`).
 */
export const waterfallLines = (w: Waterfall, all: boolean): string[][] => {
  const byId = new Map(w.spans.map((s) => [s.spanId, s]))
  const folded = new Map<string, WaterfallSpan[]>()
  const hopOf = (s: WaterfallSpan): WaterfallSpan | undefined => {
    let p = s.parentId ? byId.get(s.parentId) : undefined
    while (p && !p.hop) p = p.parentId ? byId.get(p.parentId) : undefined
    return p
  }
  if (!all)
    for (const s of w.spans) {
      if (s.hop) continue
      const hop = hopOf(s)
      if (!hop) continue
      const calls = folded.get(hop.spanId)
      if (calls) calls.push(s)
      else folded.set(hop.spanId, [s])
    }
  const shown = all ? w.spans : w.spans.filter((s) => s.hop || !hopOf(s))
  const depthOf = (s: WaterfallSpan): number => {
    if (all) return s.depth
    let d = 0
    for (let h = hopOf(s); h; h = hopOf(h)) d++
    return d
  }
  return shown.map((s) => {
    const calls = folded.get(s.spanId)
    const first = w.firstError?.spanId === s.spanId
    const name = `${'  '.repeat(depthOf(s))}${s.name}`
    const notes = [waitText(s), calls ? dbCallsText(s, calls) : '', s.error ? `${first ? '✗ first error: ' : '✗ '}${s.error}` : ''].filter(Boolean).join('  ')
    return [
      s.component ?? '',
      s.error ? style.red(name) : name,
      `+${formatMs(s.startMs)}`,
      formatMs(s.durationMs),
      style.cyan(spanBar(s.startMs, s.durationMs, w.durationMs)),
      s.error ? style.red(notes) : style.dim(notes),
    ]
  })
}

export const renderWaterfall = (w: Waterfall, all = false): string => {
  const head = `${style.bold(`trace ${w.traceId}`)}  ${w.startedAt}  ${formatMs(w.durationMs)}  ${w.components.join(' → ')}${w.failed ? `  ${style.red('✗ failed')}` : ''}`
  return `${head}\n${table(['COMPONENT', 'SPAN', 'START', 'DURATION', 'TIMELINE', 'WAITS / NOTES'], waterfallLines(w, all))}`
}

export const renderTrace = (r: TraceResult, all = false): string => {
  const parts = r.traces.map((w) => renderWaterfall(w, all))
  if (r.traces.length === 0)
    parts.push(style.dim(`no stored trace of ${r.query}: not sampled (MM_TRACE_SAMPLE, default 0.1; 1 records every order) or expired (MM_TRACE_RETENTION)`))
  if (r.versions) {
    if (r.waiting.length === 0)
      parts.push(style.green(`✓ nothing pending: the read model has ${r.aggregateId ?? r.query} at version ${r.versions.readModel}, as the write model`))
    else
      parts.push(
        [
          style.yellow(`${r.aggregateId ?? r.query} is still on its way:`),
          ...r.waiting.map((w) => `  ${style.yellow('…')} ${w.detail}${w.hint ? style.dim(`  (${w.hint})`) : ''}`),
        ].join('\n'),
      )
  } else if (r.waiting.length > 0) parts.push(r.waiting.map((w) => `${style.yellow('…')} ${w.detail}`).join('\n'))
  return parts.join('\n\n')
}

export const renderTraceList = (r: TraceListResult): string => {
  if (r.traces.length === 0) return style.dim(`no ${r.failedOnly ? 'failed ' : ''}traces since ${r.since}`)
  const width = terminal().columns
  const rows = r.traces.map((t) => [
    t.traceId,
    formatMs(t.durationMs),
    t.root.slice(0, Math.max(12, Math.floor(width / 5))),
    t.aggregateId ?? '',
    t.components.join(','),
    String(t.spans),
    t.failed ? style.red('✗ failed') : '',
  ])
  return `${table(['TRACE', 'DURATION', 'ROOT', 'AGGREGATE', 'COMPONENTS', 'SPANS', ''], rows)}\n${style.dim('mm trace <trace-id> shows one as a waterfall')}`
}
