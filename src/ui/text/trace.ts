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
 * The hops of a trace, one line each, with the database calls they made folded into a count
 * (all of them with `all`).
 */
export const waterfallLines = (w: Waterfall, all: boolean): string[][] => {
  const byId = new Map(w.spans.map((s) => [s.spanId, s]))
  const folded = new Map<string, {n: number; ms: number}>()
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
      const f = folded.get(hop.spanId) ?? {n: 0, ms: 0}
      folded.set(hop.spanId, {n: f.n + 1, ms: f.ms + s.durationMs})
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
    const notes = [
      waitText(s),
      calls ? `${calls.n} db call${calls.n === 1 ? '' : 's'} ${formatMs(calls.ms)}` : '',
      s.error ? `${first ? '✗ first error: ' : '✗ '}${s.error}` : '',
    ]
      .filter(Boolean)
      .join('  ')
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
