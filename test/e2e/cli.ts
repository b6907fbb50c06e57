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
