import type {ProgressEvent} from '../infra/types.js'
import {formatDuration} from '../lib/duration.js'
import {style} from './terminal.js'

/** Start-up progress on stderr: one line per event, on a terminal or not. */
export const progressPrinter =
  (write: (line: string) => void = (l) => process.stderr.write(l + '\n')) =>
  (e: ProgressEvent): void => {
    if (e.type === 'starting') write(`${style.dim('…')} starting ${e.server}${e.detail ? style.dim(` (${e.detail})`) : ''}`)
    else if (e.type === 'ready') write(`${style.green('✓')} ${e.server} ${e.reused ? 'already running' : `ready in ${formatDuration(e.ms)}`}`)
    else write(`${style.red('✗')} ${e.server}: ${e.error.split('\n')[0]}`)
  }

/** Routes SIGINT and SIGTERM to a callback (one AbortController per run); returns the undo. */
export const onInterrupt = (fn: () => void): (() => void) => {
  const handler = () => fn()
  process.on('SIGINT', handler)
  process.on('SIGTERM', handler)
  return () => {
    process.off('SIGINT', handler)
    process.off('SIGTERM', handler)
  }
}
