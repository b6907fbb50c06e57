import {execFileSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import {join} from 'node:path'

import type {OsUser} from './server.js'

export const findBinDir = (dirs: string[], binary: string): string | undefined => dirs.find((dir) => existsSync(join(dir, binary)))

/** Absolute path of an executable on PATH, or undefined. */
export const which = (binary: string): string | undefined => {
  try {
    return execFileSync('sh', ['-c', `command -v ${binary}`], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']}).trim() || undefined
  } catch {
    return undefined
  }
}

let cachedUser: OsUser | null | undefined
/** The postgres OS user when mm runs as root (PostgreSQL refuses root); undefined otherwise. */
export const postgresUser = (): OsUser | undefined => {
  if (process.getuid?.() !== 0) return undefined
  if (cachedUser === undefined) {
    try {
      const uid = Number(execFileSync('id', ['-u', 'postgres'], {encoding: 'utf8'}).trim())
      const gid = Number(execFileSync('id', ['-g', 'postgres'], {encoding: 'utf8'}).trim())
      cachedUser = {name: 'postgres', uid, gid}
    } catch {
      cachedUser = null
    }
  }
  return cachedUser ?? undefined
}
