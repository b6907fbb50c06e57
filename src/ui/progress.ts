import type {ProgressEvent} from '../infra/types.js'
import {formatDuration} from '../lib/duration.js'
import {style, terminal} from './terminal.js'

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

/**
 * Progress of `mm wait` on stderr: one line redrawn in place on a terminal; otherwise a plain line
 * every 5 seconds (CI logs stay short).
 */
export const waitProgress = (condition: string, write: (text: string) => void = (t) => process.stderr.write(t)) => {
  const tty = terminal().stderrIsTTY
  let lastPlain = 0
  let drawn = false
  return {
    update(pending: {name: string; detail: string}[], elapsedMs: number): void {
      const what = pending.map((p) => `${p.name}: ${p.detail}`).join('; ')
      const line = `${style.dim('…')} waiting for ${condition} (${formatDuration(elapsedMs)}): ${pending.length} pending — ${what}`
      if (tty) {
        write(`\r\u001B[K${line.slice(0, Math.max(20, terminal().columns - 1))}`)
        drawn = true
      } else if (elapsedMs - lastPlain >= 5000) {
        lastPlain = elapsedMs
        write(line + '\n')
      }
    },
    done(): void {
      if (drawn) write('\r\u001B[K')
      drawn = false
    },
  }
}
