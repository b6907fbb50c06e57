import cliProgress from 'cli-progress'

import {terminal} from './terminal.js'

export interface Progress {
  update(done: number, fields?: Record<string, string | number>): void
  stop(): void
}

/**
 * Live progress of long work on stderr: a redrawn bar on a terminal, a plain line every few
 * seconds otherwise (CI logs, pipes).
 */
export const createProgress = (opts: {label: string; total: number; unit: string; plainEveryMs?: number}): Progress => {
  if (terminal().stderrIsTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format: `${opts.label} [{bar}] {percentage}% | {value}/{total} ${opts.unit} | {rate}/s {extra}`,
        hideCursor: true,
        clearOnComplete: false,
        barsize: 30,
      },
      cliProgress.Presets.shades_classic,
    )
    bar.start(opts.total, 0, {rate: '0', extra: ''})
    const started = Date.now()
    return {
      update(done, fields = {}) {
        const rate = (done / Math.max((Date.now() - started) / 1000, 0.001)).toFixed(0)
        bar.update(done, {
          rate,
          extra: Object.entries(fields)
            .map(([k, v]) => `${k} ${v}`)
            .join(' | '),
        })
      },
      stop: () => bar.stop(),
    }
  }
  let last = 0
  const every = opts.plainEveryMs ?? 5000
  const started = Date.now()
  return {
    update(done, fields = {}) {
      if (Date.now() - last < every) return
      last = Date.now()
      const rate = (done / Math.max((Date.now() - started) / 1000, 0.001)).toFixed(0)
      const extra = Object.entries(fields)
        .map(([k, v]) => ` ${k}=${v}`)
        .join('')
      process.stderr.write(`${opts.label}: ${done}/${opts.total} ${opts.unit} rate=${rate}/s${extra}\n`)
    },
    stop: () => {},
  }
}
