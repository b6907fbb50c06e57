import {shellQuote} from '../../lib/shell.js'
import type {EnvResult} from '../../operations/env.js'

/** `export NAME=value` lines, shell-quoted: for eval, `source` or a .env file. */
export const renderEnv = (r: EnvResult): string =>
  Object.entries(r.variables)
    .map(([name, value]) => `export ${name}=${shellQuote(value)}`)
    .join('\n')
