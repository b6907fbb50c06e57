import {formatDuration} from '../../lib/duration.js'
import type {WaitResult} from '../../operations/wait.js'
import {table} from '../table.js'
import {style} from '../terminal.js'

export const renderWait = (r: WaitResult): string => {
  if (r.reached) return `${style.green('✓')} ${r.for} after ${formatDuration(r.waitedMs)}`
  const rows = r.pending.map((c) => [c.name, c.detail])
  return `${style.red('✗')} not ${r.for} after ${formatDuration(r.timeoutMs)}; still pending:\n${table(['CHECK', 'PENDING'], rows)}`
}
