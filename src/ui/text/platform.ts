import type {DoctorResult} from '../../operations/doctor.js'
import type {DownResult} from '../../operations/down.js'
import type {InstallResult} from '../../operations/infra-install.js'
import type {PlatformStatus} from '../../operations/status.js'
import type {UpResult} from '../../operations/up.js'
import {formatDuration} from '../../lib/duration.js'
import {table} from '../table.js'
import {style} from '../terminal.js'
import {renderSnapshot} from './snapshot.js'

const mark = (ok: boolean) => (ok ? style.green('✓') : style.red('✗'))

export const renderEndpoints = (rows: {name: string; url: string}[]): string =>
  table(
    ['ENDPOINT', 'URL'],
    rows.map((r) => [r.name, r.url]),
  )

export const renderStatus = (s: PlatformStatus): string => {
  if (s.runtime === 'none') return 'The platform is not running (start it with: mm up)'
  const data = s.servers.some((x) => x.dataDir)
  const servers = table(
    ['SERVER', 'RUNTIME', 'HEALTH', 'VERSION', 'URL', ...(data ? ['DATA'] : [])],
    s.servers.map((x) => [
      x.name,
      x.runtime,
      `${mark(x.healthy)} ${x.healthy ? 'healthy' : (x.error ?? 'unhealthy')}`,
      [x.version, x.implementation && !x.version?.includes(x.implementation) ? `(${x.implementation})` : ''].filter(Boolean).join(' ') || '-',
      x.url || '-',
      ...(data ? [x.dataDir ?? '-'] : []),
    ]),
  )
  const sup = s.supervisor.running
    ? `${mark(!s.supervisor.error)} supervisor pid ${s.supervisor.pid} (${s.supervisor.mode}), gateway ${s.supervisor.http}${s.supervisor.error ? ` — ${s.supervisor.error}` : ''}`
    : `${mark(false)} runners not running${s.supervisor.error ? ` (${s.supervisor.error})` : ''}: start them with mm up`
  const skipped = s.notStarted ?? []
  const nameWidth = Math.max('RUNNER'.length, ...s.runners.map((r) => r.name.length), ...skipped.map((n) => n.name.length))
  const runners = s.runners.length
    ? '\n' +
      table(
        ['RUNNER'.padEnd(nameWidth), 'STATE', 'UPTIME', 'HANDLED', 'FAILED', 'DLQ', 'HTTP'],
        s.runners.map((r) => [
          r.name,
          r.state,
          r.uptimeSeconds === undefined ? '-' : formatDuration(r.uptimeSeconds * 1000),
          String(r.counters.handled),
          String(r.counters.failed),
          String(r.counters.deadLettered),
          String(r.counters.httpRequests),
        ]),
      ) +
      skipped.map((n) => `\n${n.name.padEnd(nameWidth)}  ${style.dim(`not started: ${n.reason}`)}`).join('')
    : ''
  const platform = s.platform ? `\n\n${renderSnapshot(s.platform)}` : ''
  return `${servers}\n\n${sup}${runners}${platform}\n\n${s.healthy ? style.green('platform healthy') : style.red('platform unhealthy')}`
}

export const renderUp = (r: UpResult): string => {
  if (r.alreadyUp) {
    const note = r.note ? `\n${style.yellow('!')} ${r.note}` : ''
    return `Already up (${r.runtime}).${note}\n\n${r.status ? renderStatus(r.status) : renderEndpoints(r.endpoints)}`
  }
  const started = r.started.length ? `started ${r.started.join(', ')}` : 'infrastructure already running'
  const skipped = r.notStarted.length
    ? `\n  runners ${r.runners.join(', ')}; not started: ${r.notStarted.map((n) => `${n.name} (${n.reason})`).join(', ')}`
    : ''
  return `${renderEndpoints(r.endpoints)}\n\n${style.green('✓')} platform up (${r.runtime}) in ${formatDuration(r.durationMs)}: ${started}${skipped}`
}

export const renderDown = (r: DownResult): string => {
  if (r.runtime === 'none' && !r.removedData) return 'Nothing was running.'
  const dirs = [r.dataDir, ...r.outside].join(', ')
  return `${style.green('✓')} platform stopped${r.removedData ? `; data removed (${dirs})` : `; data kept in ${dirs} (mm down -v removes it)`}`
}

export const renderDoctor = (d: DoctorResult): string => {
  const icon = {ok: style.green('✓'), warn: style.yellow('!'), fail: style.red('✗')}
  const lines = d.checks.map((c) => `${icon[c.status]} ${c.check.padEnd(16)} ${c.detail}${c.fix ? `\n  ${' '.repeat(16)} ${style.dim('fix:')} ${c.fix}` : ''}`)
  return `${lines.join('\n')}\n\n${d.ok ? style.green('ready for mm up') : style.red('problems found: fix the ✗ lines above')}`
}

export const renderInstall = (r: InstallResult): string =>
  `${table(
    ['STEP', 'ACTION', 'DETAIL'],
    r.steps.map((s) => [s.step, s.action === 'installed' ? style.green('installed') : 'present', s.detail]),
  )}\n\n${style.green('✓')} native mode ready on ${r.platform}`
