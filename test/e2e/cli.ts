import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'

import {execa} from 'execa'

export const ROOT = join(import.meta.dirname, '..', '..')
export const BIN = join(ROOT, 'bin', 'run.js')

/** Runs the built CLI the way a user does: no TTY, CI set, never throws on a non-zero exit. */
export interface Run {
  exitCode: number
  stdout: string
  stderr: string
}

export const mm = async (args: string[], opts: {cwd: string; env?: Record<string, string>; timeoutMs?: number}): Promise<Run> => {
  const r = await execa(process.execPath, [BIN, ...args], {
    cwd: opts.cwd,
    env: {CI: 'true', NO_COLOR: '1', ...opts.env},
    reject: false,
    timeout: opts.timeoutMs ?? 240_000,
    stdin: 'ignore',
  })
  return {exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr)}
}

export const json = <T = Record<string, unknown>>(r: Run): T => {
  try {
    return JSON.parse(String(r.stdout)) as T
  } catch {
    throw new Error(`stdout is not JSON (exit ${r.exitCode}):\n${r.stdout}\n--- stderr ---\n${r.stderr}`)
  }
}

/** The pids a platform recorded in its state file: its servers and its supervisor. */
export const recordedPids = (statePath: string): number[] => {
  const state = JSON.parse(readFileSync(statePath, 'utf8')) as {servers: Record<string, {pid?: number}>; supervisor?: {pid: number}}
  return [...Object.values(state.servers).flatMap((s) => (s.pid ? [s.pid] : [])), ...(state.supervisor ? [state.supervisor.pid] : [])]
}

/** Every live process (zombies aside) whose command line, or with `environ` its environment too, mentions one of `dirs`. */
export const processesUsing = (dirs: string[], opts: {environ?: boolean} = {}): number[] =>
  readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid)
    .filter((p) => {
      try {
        const stat = readFileSync(`/proc/${p}/stat`, 'utf8')
        if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return false
        const mentions = (file: string) => {
          const text = readFileSync(`/proc/${p}/${file}`, 'utf8')
          return dirs.some((d) => text.includes(d))
        }
        return mentions('cmdline') || (opts.environ === true && mentions('environ'))
      } catch {
        return false
      }
    })
    .map(Number)
