import type {Hook} from '@oclif/core'

import {presentError} from '../base-command.js'
import {UsageError} from '../lib/errors.js'

/** Edit distance, for "did you mean": a command id is a few words, so the plain table is enough. */
const distance = (a: string, b: string): number => {
  let prev = Array.from({length: b.length + 1}, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    prev = row
  }
  return prev[b.length]!
}

/**
 * An unknown command, answered in mm's own error style (exit 2, JSON under --json): an extra word
 * after a command that takes none is named as such; a typo gets the closest commands.
 */
const hook: Hook<'command_not_found'> = async function (opts) {
  const ids = opts.config.commands.filter((c) => !c.hidden).map((c) => c.id)
  const shown = (id: string) => `mm ${id.replaceAll(':', ' ')}`
  let error: UsageError
  const command = [...ids].sort((a, b) => b.length - a.length).find((id) => opts.id.startsWith(`${id}:`))
  if (command) {
    const extra = opts.id.slice(command.length + 1).replaceAll(':', ' ')
    error = new UsageError(`${shown(command)} takes no argument "${extra}"`, `see ${shown(command)} --help`)
  } else {
    const asked = opts.id.replaceAll(':', ' ')
    const near = ids
      .map((id) => ({id, d: distance(asked, id.replaceAll(':', ' '))}))
      .filter((x) => x.d <= Math.max(1, Math.floor(asked.length / 3)))
      .sort((a, b) => a.d - b.d)
      .slice(0, 3)
    error = new UsageError(
      `mm has no command "${asked}"`,
      near.length > 0 ? `did you mean ${near.map((x) => shown(x.id)).join(', ')}? (mm --help lists them all)` : 'mm --help lists the commands',
    )
  }
  process.exitCode = presentError(error, (opts.argv ?? []).includes('--json'))
}

export default hook
