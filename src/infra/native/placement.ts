import {execFileSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {chmodSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {dirname, join, sep} from 'node:path'

import type {ServerName} from '../types.js'
import type {OsUser} from './server.js'

/**
 * Where a native server keeps its data. Normally `.mm/data/<server>`, next to everything else mm
 * writes. A server that runs as another OS user (PostgreSQL as `postgres` when mm runs as root)
 * must be able to enter every parent of that directory, and a checkout under a mode-700 home
 * (`/root/mm`) is out of its reach. Rather than loosening the home folder, that server's data
 * then lives in `/var/lib/mm/<instance>/<server>` (the FHS place for persistent state; `/tmp`
 * and `/var/tmp` may be cleaned), where `<instance>` is derived from the data directory. The
 * choice is recorded in `.mm/state.json` (`dataDirs`) so later commands find the same data even
 * if permissions change, and `mm down -v` removes it.
 */
export const OUTSIDE_ROOT = '/var/lib/mm'

/** Distinguishes mm instances on one machine: the data directory they were started from. */
export const instanceOf = (dataDir: string): string => createHash('sha256').update(dataDir).digest('hex').slice(0, 8)

export const defaultDataDir = (dataDir: string, server: ServerName): string => join(dataDir, 'data', server)

/** This instance's folder outside the checkout. */
export const outsideHome = (dataDir: string): string => join(OUTSIDE_ROOT, instanceOf(dataDir))

export interface Placement {
  server: ServerName
  dir: string
  /** Why the data is not under `.mm/data` (undefined when it is). */
  reason?: string
}

const canEnter = (dir: string, user: OsUser): boolean => {
  try {
    // access(X_OK) resolves the whole path: it fails when any parent cannot be searched.
    execFileSync('test', ['-x', dir], {uid: user.uid, gid: user.gid, stdio: 'ignore'})
    return true
  } catch {
    return false
  }
}

/** The nearest existing directory at or above `dir` (new ones are created searchable). */
const existing = (dir: string): string => {
  let current = dir
  while (!existsSync(current) && dirname(current) !== current) current = dirname(current)
  return current
}

/** True when a file lies anywhere under `dir` (empty folders left by a failed start do not count). */
const hasContent = (dir: string): boolean => {
  try {
    return readdirSync(dir, {withFileTypes: true}).some((e) => !e.isDirectory() || hasContent(join(dir, e.name)))
  } catch {
    return false
  }
}

/** The first directory on the way down to `dir` that `user` cannot enter. */
export const blockingDir = (dir: string, user: OsUser): string | undefined => {
  const parts = existing(dir).split(sep).filter(Boolean)
  for (let i = 1; i <= parts.length; i++) {
    const prefix = sep + parts.slice(0, i).join(sep)
    if (!canEnter(prefix, user)) return prefix
  }
  return undefined
}

/**
 * Where `server`'s data lives: what state.json recorded, else `.mm/data/<server>` when the OS
 * user it runs as can reach it or data is already there, else outside the checkout.
 */
export const placeData = (dataDir: string, server: {name: ServerName; runsAs?: () => OsUser | undefined}, recorded?: string): Placement => {
  const dflt = defaultDataDir(dataDir, server.name)
  const user = server.runsAs?.()
  const parent = existing(dirname(dflt))
  const blocker = user && !canEnter(parent, user) ? (blockingDir(parent, user) ?? parent) : undefined
  const reason = user && blocker ? `the ${user.name} user cannot enter ${blocker}` : undefined
  if (recorded) return {server: server.name, dir: recorded, reason: recorded === dflt ? undefined : (reason ?? 'recorded in state.json')}
  // Data already under .mm stays there (never silently start empty elsewhere); the server names
  // the folder in the way when it starts.
  if (hasContent(dflt)) return {server: server.name, dir: dflt}
  return blocker ? {server: server.name, dir: join(outsideHome(dataDir), server.name), reason} : {server: server.name, dir: dflt}
}

/** Creates this instance's folder outside the checkout, enterable by the servers' OS users. */
export const ensureOutsideHome = (dataDir: string): void => {
  const home = outsideHome(dataDir)
  for (const dir of [OUTSIDE_ROOT, home]) {
    mkdirSync(dir, {recursive: true})
    chmodSync(dir, 0o755) // whatever the umask: each server's own folder inside is mode 700
  }
  // Tells a human which checkout a folder belongs to (e.g. after deleting one without mm down -v).
  writeFileSync(join(home, 'OWNER'), `${dataDir}\n`)
}

/**
 * `mm down -v`: removes what this instance keeps outside the checkout: the recorded folders
 * (only ever inside OUTSIDE_ROOT, whatever state.json says) and the derived instance folder.
 */
export const removeOutside = (dataDir: string, recorded: string[]): string[] => {
  const removed: string[] = []
  for (const dir of [...recorded, outsideHome(dataDir)]) {
    if (!dir.startsWith(OUTSIDE_ROOT + sep) || !existsSync(dir)) continue
    rmSync(dir, {recursive: true, force: true})
    removed.push(dir)
  }
  for (const dir of new Set(recorded.map(dirname))) removeIfEmpty(dir)
  removeIfEmpty(OUTSIDE_ROOT)
  return removed
}

/** Removes a folder of OUTSIDE_ROOT left with nothing but its OWNER note. */
const removeIfEmpty = (dir: string): void => {
  if (dir !== OUTSIDE_ROOT && !dir.startsWith(OUTSIDE_ROOT + sep)) return
  try {
    if (readdirSync(dir).every((f) => f === 'OWNER')) rmSync(dir, {recursive: true, force: true})
  } catch {
    /* gone or not empty */
  }
}
