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
 * One status line of progress on stderr, the one mechanism for work that has no known total
 * (mm wait, dlq replay, projections verify/rebuild): on a terminal the line is redrawn in place at
 * most every 100 ms; otherwise (CI logs, pipes) a plain line at most every 5 s, so logs stay short.
 * Work with a total (mm load) gets a bar: ui/load-progress.ts.
 */
export const statusLine = <T>(render: (p: T) => string, write: (text: string) => void = (t) => process.stderr.write(t)) => {
  const tty = terminal().stderrIsTTY
  let last = Date.now() // work that ends within the first interval prints nothing
  let drawn = false
  return {
    update(p: T): void {
      const now = Date.now()
      if (now - last < (tty ? 100 : 5000)) return
      last = now
      if (tty) {
        write(`\r\u001B[2K${render(p).slice(0, Math.max(20, terminal().columns - 1))}`)
        drawn = true
      } else write(`${render(p)}\n`)
    },
    done(): void {
      if (drawn) write('\r\u001B[2K')
      drawn = false
    },
  }
}

/** Progress of `mm wait`: what is still pending. */
export const waitProgress = (condition: string) => {
  const line = statusLine<{pending: {name: string; detail: string}[]; elapsedMs: number}>(
    ({pending, elapsedMs}) =>
      `${style.dim('…')} waiting for ${condition} (${formatDuration(elapsedMs)}): ${pending.length} pending — ${pending.map((p) => `${p.name}: ${p.detail}`).join('; ')}`,
  )
  return {update: (pending: {name: string; detail: string}[], elapsedMs: number) => line.update({pending, elapsedMs}), done: line.done}
}
