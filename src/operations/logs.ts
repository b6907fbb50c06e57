import {existsSync, readdirSync, readFileSync, statSync, openSync, readSync, closeSync} from 'node:fs'
import {join} from 'node:path'

import {SERVER_NAMES} from '../infra/types.js'
import {UsageError, UserError} from '../lib/errors.js'
import {sleep} from '../lib/proc.js'
import {COMPONENTS} from '../runtime/components.js'
import {SUPERVISOR_LOG} from './up.js'

export interface LogSource {
  name: string
  file: string
  /** Lines of the shared mm.log belong to a runner when their scope column names it. */
  scope?: string
}

/** Server logs live in `.mm/logs/<server>.log`; runner logs in `.mm/logs/mm.log`, scoped. */
export const logSources = (dataDir: string, filter: string[]): LogSource[] => {
  const dir = join(dataDir, 'logs')
  if (!existsSync(dir)) throw new UserError(`no logs in ${dir}`, 'start the platform with mm up')
  const servers = readdirSync(dir)
    .filter((f) => f.endsWith('.log') && f !== SUPERVISOR_LOG)
    .map((f) => ({name: f.replace(/\.log$/, ''), file: join(dir, f)}))
  const all: LogSource[] = [...servers, {name: 'mm', file: join(dir, SUPERVISOR_LOG)}]
  if (filter.length === 0) return all
  // A name that is no source would print nothing and look like a quiet platform.
  const known = [...new Set([...all.map((s) => s.name), ...SERVER_NAMES, ...COMPONENTS, 'topology'])]
  const unknown = filter.filter((name) => !known.includes(name))
  if (unknown.length > 0) throw new UsageError(`no logs named ${unknown.join(', ')}`, `name servers or runners: ${known.join(', ')}`)
  return filter.map(
    (name) =>
      all.find((s) => s.name === name) ??
      ((SERVER_NAMES as readonly string[]).includes(name) ? {name, file: join(dir, `${name}.log`)} : {name, file: join(dir, SUPERVISOR_LOG), scope: name}),
  )
}

const matches = (source: LogSource, line: string): boolean => !source.scope || line.slice(9).startsWith(source.scope + ' ')

const prefix = (source: LogSource, width: number) => (line: string) => (source.name === 'mm' || source.scope ? line : `${source.name.padEnd(width)} | ${line}`)

/** The last `lines` lines of each source, prefixed with its name. */
export const readLogs = (sources: LogSource[], lines: number): string[] => {
  const width = Math.max(...sources.map((s) => s.name.length))
  return sources.flatMap((s) => {
    if (!existsSync(s.file)) return []
    const all = readFileSync(s.file, 'utf8')
      .split('\n')
      .filter((l) => l && matches(s, l))
    return (lines > 0 ? all.slice(-lines) : []).map(prefix(s, width))
  })
}

/** Follows every source like `tail -f`, until the signal aborts. */
export const followLogs = async (sources: LogSource[], write: (line: string) => void, signal: AbortSignal): Promise<void> => {
  const width = Math.max(...sources.map((s) => s.name.length))
  const offsets = new Map(sources.map((s) => [s.file + (s.scope ?? ''), existsSync(s.file) ? statSync(s.file).size : 0]))
  const partial = new Map<string, string>()
  while (!signal.aborted) {
    for (const s of sources) {
      const key = s.file + (s.scope ?? '')
      if (!existsSync(s.file)) continue
      const size = statSync(s.file).size
      let offset = offsets.get(key) ?? 0
      if (size < offset) offset = 0 // truncated or replaced
      if (size === offset) continue
      const buf = Buffer.alloc(size - offset)
      const fd = openSync(s.file, 'r')
      readSync(fd, buf, 0, buf.length, offset)
      closeSync(fd)
      offsets.set(key, size)
      const text = (partial.get(key) ?? '') + buf.toString('utf8')
      const parts = text.split('\n')
      partial.set(key, parts.pop() ?? '')
      for (const line of parts) if (line && matches(s, line)) write(prefix(s, width)(line))
    }
    await sleep(250, signal)
  }
}
