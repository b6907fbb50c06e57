import {Flags} from '@oclif/core'

import {formatDuration, parseDuration} from './lib/duration.js'

/**
 * Flags shared by commands. A duration flag takes "500ms", "30s", "2m", "1h" or "1m30s" (a bare
 * number is seconds), gives milliseconds, and refuses what is out of its bounds with a message
 * naming the flag and the bounds (a usage error, exit 2).
 */
export const durationFlag = Flags.custom<number, {min?: number; max?: number}>({
  helpValue: '<duration>',
  parse: async (input, _context, opts) => {
    const ms = parseDuration(input)
    const name = `--${opts.name}`
    if (ms === undefined) throw new Error(`${name} must be a duration like 500ms, 30s, 2m or 1h (got "${input}")`)
    if (opts.min !== undefined && ms < opts.min) throw new Error(`${name} must be at least ${formatDuration(opts.min)} (got "${input}")`)
    if (opts.max !== undefined && ms > opts.max) throw new Error(`${name} must be at most ${formatDuration(opts.max)} (got "${input}")`)
    return ms
  },
})

/**
 * A duration flag's value for src/config, which reads it as it reads the MM_* twin ("1500ms"):
 * the flag wins over the environment and `.env`, and the supervisor inherits it.
 */
export const durationSetting = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : `${ms}ms`)
