/**
 * The one place that decides whether mm talks to a person at a terminal (HANDBOOK convention 4).
 * Interactive means: CI is not set, and both stdin and stdout are TTYs.
 */
export interface Terminal {
  interactive: boolean
  /** stderr is a TTY: progress can redraw in place. */
  stderrIsTTY: boolean
  color: boolean
  columns: number
  rows: number
}

const truthy = (v: string | undefined): boolean => v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false'

export const detectTerminal = (): Terminal => {
  const ci = truthy(process.env.CI)
  const interactive = !ci && Boolean(process.stdin.isTTY) && Boolean(process.stdout.isTTY)
  const stderrIsTTY = !ci && Boolean(process.stderr.isTTY)
  const color = process.env.NO_COLOR === undefined && (interactive || stderrIsTTY) && process.env.TERM !== 'dumb'
  return {
    interactive,
    stderrIsTTY,
    color,
    columns: process.stdout.columns ?? 100,
    rows: process.stdout.rows ?? 40,
  }
}

let cached: Terminal | undefined
export const terminal = (): Terminal => (cached ??= detectTerminal())

const wrap = (open: number, close: number) => (text: string) => (terminal().color ? `\u001B[${open}m${text}\u001B[${close}m` : text)
export const style = {
  bold: wrap(1, 22),
  dim: wrap(2, 22),
  red: wrap(31, 39),
  green: wrap(32, 39),
  yellow: wrap(33, 39),
  cyan: wrap(36, 39),
}
