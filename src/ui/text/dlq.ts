import {createInterface} from 'node:readline'

import {InterruptedError, UsageError} from '../../lib/errors.js'
import {formatDuration} from '../../lib/duration.js'
import type {DlqListResult, DlqMessage, DlqPlan, DlqShowResult, PurgeResult, ReplayResult} from '../../operations/dlq/index.js'
import {statusLine} from '../progress.js'
import {table} from '../table.js'
import {style, terminal} from '../terminal.js'

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`
const count = (n: number, approximate: boolean) => `${approximate ? '~' : ''}${n}`
const oneLine = (text: string, width: number): string => {
  const flat = text.replace(/\s*\n\s*/g, ' ')
  return flat.length > width ? `${flat.slice(0, Math.max(1, width - 1))}…` : flat
}

export const renderDlqList = (r: DlqListResult): string => {
  const rows = r.dlqs.map((d) => [
    d.name,
    d.broker,
    d.error ? style.red('?') : d.messages > 0 ? style.yellow(count(d.messages, d.approximate)) : '0',
    d.error ? style.red(`error: ${oneLine(d.error, 60)}`) : d.topErrors.map((e) => `${e.errorClass} ×${e.count}`).join(', ') || style.dim('-'),
  ])
  const nonEmpty = r.dlqs.filter((d) => d.messages > 0).length
  const footer =
    r.total === 0
      ? style.green('✓ every DLQ is empty')
      : `${plural(r.total, 'dead letter')} in ${plural(nonEmpty, 'DLQ')} ${style.dim('(mm dlq show <dlq>, mm dlq replay <dlq>)')}`
  return `${table(['DLQ', 'BROKER', 'MESSAGES', 'TOP ERRORS'], rows)}\n\n${footer}`
}

const origin = (m: DlqMessage): string => {
  const o = m.original
  if (o.topic)
    return `${o.topic}${o.partition === undefined ? '' : `[${o.partition}]`}${o.offset === undefined ? '' : `@${o.offset}`}${o.group === undefined ? '' : ` (group ${o.group})`}`
  return [o.queue && `queue ${o.queue}`, o.exchange !== undefined && `exchange "${o.exchange}"`, o.routingKey !== undefined && `routing key ${o.routingKey}`]
    .filter(Boolean)
    .join(', ')
}

export const renderDlqMessage = (m: DlqMessage, width = terminal().columns): string => {
  const e = m.error
  const detail = [e.attempts === undefined ? '' : plural(e.attempts, 'attempt'), e.failedAt ? `failed ${e.failedAt}` : ''].filter(Boolean).join(', ')
  const value =
    m.value === null ? style.dim('(null)') : `${oneLine(m.value, Math.max(20, width - 14))}${m.valueEncoding === 'base64' ? style.dim(' (base64)') : ''}`
  const lines = [
    `${style.bold(m.partition === undefined ? `#${m.id}` : `[${m.partition}]@${m.offset}`)}  ${m.key === null ? style.dim('no key') : `${m.partition === undefined ? 'message id' : 'key'} ${m.key}`}${m.timestamp && !e.failedAt ? style.dim(`  dead-lettered ${m.timestamp}`) : ''}`,
    `  error    ${style.red(e.errorClass)}${e.message ? `: ${oneLine(e.message, Math.max(20, width - 16 - e.errorClass.length))}` : ''}${detail ? style.dim(` (${detail})`) : ''}`,
    `  from     ${origin(m)}`,
    ...(m.replayCount > 0 ? [`  replays  ${m.replayCount}`] : []),
    ...(m.traceId ? [`  trace    ${m.traceId}${style.dim(`  (mm trace ${m.traceId})`)}`] : []),
    `  value    ${value}`,
  ]
  return lines.join('\n')
}

export const renderDlqShow = (r: DlqShowResult): string => {
  const head = `${style.bold(r.dlq)} (${r.broker}, from ${r.source}): ${count(r.messages, r.approximate)} pending${r.shown < r.messages ? `, showing the first ${r.shown}` : ''}${r.broker === 'kafka' && r.shown > 1 ? style.dim(' — oldest first') : ''}`
  if (r.shown === 0) return `${head}\n\n${style.green('✓ nothing to show')}`
  return `${head}\n\n${r.items.map((m) => renderDlqMessage(m)).join('\n\n')}${r.shown > 0 ? style.dim('\n\nfull values and headers: --json') : ''}`
}

const destinations = (d: Record<string, number>) =>
  Object.entries(d)
    .map(([to, n]) => `${to} (${n})`)
    .join(', ')

export const renderDlqReplay = (r: ReplayResult): string => {
  const skipped =
    (r.skipped > 0 ? `; ${plural(r.skipped, 'message')} at --max-replays ${r.maxReplays} ${r.dryRun ? 'would stay' : 'left'} in ${r.dlq}` : '') +
    (r.duplicates
      ? `; ${r.duplicates} ${r.duplicates === 1 ? 'copy' : 'copies'} of a message replayed once (each consumer group that failed on it dead-lettered one) ${r.dryRun ? 'would be' : 'were'} moved past`
      : '')
  if (r.dryRun) {
    const scanned = r.scanned !== undefined && r.scanned < r.replayed + r.skipped ? style.dim(` (skips counted among the first ${r.scanned})`) : ''
    return `Dry run: would replay ${plural(r.replayed, 'message')} of ${count(r.snapshot, r.approximate)} from ${r.dlq}${r.replayed > 0 ? ` to ${destinations(r.destinations)}` : ''}${skipped}${scanned}. Nothing changed.`
  }
  if (r.declined) return 'Nothing replayed.'
  if (r.snapshot === 0) return `${style.green('✓')} ${r.dlq} is empty: nothing to replay`
  const line = `${r.interrupted ? style.yellow('! interrupted:') : style.green('✓')} replayed ${plural(r.replayed, 'message')} from ${r.dlq}${r.replayed > 0 ? ` to ${destinations(r.destinations)}` : ''}${skipped} in ${formatDuration(r.durationMs)}`
  return r.interrupted ? `${line}\n${style.dim('run the same command again to continue')}` : line
}

export const renderDlqPurge = (r: PurgeResult): string => {
  if (r.dryRun) return `Dry run: would purge ${plural(r.purged, 'message')}${r.approximate ? ' (about)' : ''} from ${r.dlq}. Nothing changed.`
  if (r.declined) return 'Nothing purged.'
  return `${style.green('✓')} purged ${plural(r.purged, 'message')}${r.approximate ? ' (about)' : ''} from ${r.dlq}`
}

export const planQuestion = (p: DlqPlan): string =>
  p.action === 'replay'
    ? `Replay ${p.count < p.snapshot ? `${p.count} of ` : ''}${p.approximate ? 'about ' : ''}${plural(p.snapshot, 'message')} from ${p.dlq} (${p.broker}) to where they failed?`
    : `Purge ${plural(p.count, 'message')}${p.approximate ? ' (about)' : ''} from ${p.dlq} (${p.broker})? They cannot be replayed afterwards.`

/** Asks y/N on the terminal (stderr), reading one line of stdin; only "y" or "yes" says yes. Ctrl-C → exit 130. */
export const askYesNo = (question: string): Promise<boolean> =>
  new Promise((resolve, reject) => {
    const rl = createInterface({input: process.stdin, output: process.stderr})
    rl.on('SIGINT', () => {
      rl.close()
      process.stderr.write('\n')
      reject(new InterruptedError())
    })
    rl.question(`${question} ${style.dim('[y/N]')} `, (answer) => {
      rl.close()
      resolve(/^\s*y(es)?\s*$/i.test(answer))
    })
  })

/** Replay progress on stderr: redrawn in place on a terminal, a plain line every few seconds otherwise. */
export const replayProgress = () => statusLine<{replayed: number; skipped: number}>((p) => `… replayed ${p.replayed}, skipped ${p.skipped}`)

/**
 * How a destructive DLQ command gets its go-ahead: --yes gives it; on a terminal a y/N question
 * (asked once the snapshot is fixed); otherwise a usage error naming --yes, before anything is read.
 */
export const confirmation = (action: 'replay' | 'purge', yes: boolean): ((plan: DlqPlan) => Promise<boolean>) | undefined => {
  if (yes) return undefined
  if (!terminal().interactive)
    throw new UsageError(`mm dlq ${action} needs confirmation and there is no terminal to ask on: pass --yes`, `see what it would do with --dry-run`)
  return (plan) => askYesNo(planQuestion(plan))
}
