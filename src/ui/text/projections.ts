import type {Difference} from '../../../services/query/verify.js'
import type {LastRuns} from '../../../services/query/runs.js'
import {formatDuration} from '../../lib/duration.js'
import {UsageError} from '../../lib/errors.js'
import type {RebuildPlan, RebuildProgressEvent, RebuildResult, VerifyResult} from '../../operations/projections/index.js'
import {statusLine} from '../progress.js'
import {table} from '../table.js'
import {style, terminal} from '../terminal.js'
import {askYesNo} from './dlq.js'

const plural = (n: number, word: string) => `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`
const num = (n: number) => n.toLocaleString('en-US')
const short = (value: unknown, width = 40): string => {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value))
  return text.length > width ? `${text.slice(0, width - 1)}…` : text
}

const renderDifference = (d: Difference): string => {
  const head = `${style.bold(d.view)} ${d.id}`
  if (d.kind === 'missing')
    return `${head}  ${style.red('missing')} from the view${d.expected === undefined ? '' : `; the write model has ${short(d.expected, 90)}`}`
  if (d.kind === 'extra')
    return `${head}  ${style.red('extra')}: not in the write model${d.actual === undefined ? '' : `; the view has ${short(d.actual, 90)}`}`
  const width = Math.max(...d.fields.map((f) => f.field.length))
  return [head, ...d.fields.map((f) => `  ${f.field.padEnd(width)}  expected ${style.green(short(f.expected))}  actual ${style.red(short(f.actual))}`)].join(
    '\n',
  )
}

export const renderVerify = (r: VerifyResult): string => {
  const rows = r.views.map((v) => [
    v.view,
    num(v.rows),
    num(v.documents),
    num(v.matching),
    v.differing ? style.red(num(v.differing)) : '0',
    v.missing ? style.red(num(v.missing)) : '0',
    v.extra ? style.red(num(v.extra)) : '0',
  ])
  const out = [table(['VIEW', 'WRITE ROWS', 'DOCUMENTS', 'MATCHING', 'DIFFERING', 'MISSING', 'EXTRA'], rows)]
  if (r.differences.length > 0) out.push(r.differences.map(renderDifference).join('\n'))
  const notes: string[] = []
  if (!r.catchUp.caughtUp)
    notes.push(
      style.yellow(
        `! the read model had not caught up (${r.catchUp.unpublished} unpublished, ${r.catchUp.pendingEvents} events to apply after ${formatDuration(r.catchUp.waitedMs)}): some differences may only be lag`,
      ),
    )
  if (r.unsettled > 0)
    notes.push(style.dim(`${plural(r.unsettled, 'document')} kept changing while checked and ${r.unsettled === 1 ? 'is' : 'are'} not counted`))
  const speed = `${plural(r.rows, 'document')} in ${formatDuration(r.durationMs)} (${num(r.docsPerSec)}/s)`
  if (r.interrupted) notes.push(style.yellow(`! interrupted after ${speed}: nothing recorded`))
  else if (r.ok) notes.push(`${style.green('✓')} the read model equals the write models: ${speed}`)
  else {
    const more = r.total > r.differences.length ? `; the first ${r.differences.length} shown (--limit N for more, --json for every field)` : ''
    notes.push(
      `${style.red('✗')} ${plural(r.total, 'difference')} in ${plural(r.views.filter((v) => v.differing + v.missing + v.extra > 0).length, 'view')}${more} — checked ${speed}; mend with mm projections rebuild`,
    )
  }
  return [...out, notes.join('\n')].join('\n\n')
}

export const renderRebuild = (r: RebuildResult): string => {
  const planTable = table(
    ['VIEW', 'WRITE ROWS', 'DOCUMENTS'],
    r.plan.views.map((v) => [v.view, num(v.rows), num(v.documents)]),
  )
  const rows = r.plan.views.reduce((n, v) => n + v.rows, 0)
  if (r.dryRun)
    return `${planTable}\n\nDry run: would rebuild ${plural(r.plan.views.length, 'view')} (${plural(rows, 'document')}) into shadow collections and swap them in by ${r.swap}. Nothing changed.`
  if (r.declined) return 'Nothing rebuilt.'
  if (r.interrupted) return `${style.yellow('! interrupted before the swap:')} the live views are untouched (the shadow collections were dropped)`
  const done = table(
    ['VIEW', 'BUILT', 'CAUGHT UP', 'WRITTEN', 'REMOVED', 'AFTER SWAP'],
    r.views.map((v) => [v.view, num(v.built), num(v.caughtUp), num(v.written), num(v.removed), num(v.afterSwap)]),
  )
  const changed = r.views.reduce((n, v) => n + v.written + v.removed, 0)
  const swap = r.swap === 'rename' ? 'renamed in (atomic)' : `swapped in by copy (${plural(changed, 'document')} of the live views changed)`
  const line = `${style.green('✓')} rebuilt ${plural(r.views.length, 'view')} from ${plural(r.documents, 'document')} (${num(r.docsPerSec)}/s), ${swap}`
  return `${done}\n${line}\n\n${r.verify ? renderVerify(r.verify) : ''}`
}

export const rebuildQuestion = (p: RebuildPlan): string => {
  const rows = p.views.reduce((n, v) => n + v.rows, 0)
  return `Rebuild ${p.views.map((v) => v.view).join(', ')} (${plural(rows, 'document')}) from the write models and swap ${p.views.length === 1 ? 'it' : 'them'} in while the platform runs?`
}

/** --yes gives the go-ahead; on a terminal a y/N question once the plan is known; otherwise a usage error naming --yes. */
export const rebuildConfirmation = (yes: boolean): ((plan: RebuildPlan) => Promise<boolean>) | undefined => {
  if (yes) return undefined
  if (!terminal().interactive)
    throw new UsageError('mm projections rebuild needs confirmation and there is no terminal to ask on: pass --yes', 'see what it would do with --dry-run')
  return (plan) => askYesNo(rebuildQuestion(plan))
}

/** One line about the last verify and the last rebuild, for mm status and the dashboard. */
export const describeRuns = (runs: LastRuns | undefined, now = Date.now()): {verify: string; rebuild: string} => {
  const ago = (at: string) => `${formatDuration(Math.max(0, now - Date.parse(at)))} ago`
  const v = runs?.verify
  const b = runs?.rebuild
  return {
    verify: v ? `${ago(v.at)}: ${v.ok ? 'no differences' : plural(v.differences, 'difference')}${v.caughtUp ? '' : ' (not caught up)'}` : 'never',
    rebuild: b
      ? `${ago(b.at)}: ${b.interrupted ? 'interrupted' : b.error ? `failed (${short(b.error, 60)})` : b.ok ? 'verified' : 'verify found differences'}`
      : 'never',
  }
}

/** One line about where a verify or a rebuild is. */
export const progressText = (p: RebuildProgressEvent): string => {
  if (p.stage === 'catch-up')
    return `… waiting for the read model to catch up (${formatDuration(p.elapsedMs)}): ${p.unpublished} unpublished, ${p.pendingEvents} events to apply`
  if (p.stage === 'verify') return `… verify ${p.view}: ${p.phase} ${num(p.done)}${p.phase === 'extras' ? ' documents' : `/${num(p.total)}`}`
  return `… rebuild ${p.view}: ${p.phase} ${num(p.done)}/${num(p.total)}`
}

/** Progress on stderr: one line redrawn on a terminal, a plain line every 5 seconds otherwise. */
export const projectionsProgress = () => statusLine<RebuildProgressEvent>(progressText)
