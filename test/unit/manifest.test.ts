import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {join, relative, sep} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'
import type {Command} from '@oclif/core'
import {beforeAll, describe, expect, it} from 'vitest'

/**
 * oclif reads flags, args and summaries from oclif.manifest.json instead of loading every command.
 * `npm run build` writes it (it is build output, not in git). A command changed in src without
 * rebuilding leaves the manifest stale: help and parsing drift.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const COMMANDS_DIR = join(ROOT, 'src', 'commands')
const REGENERATE = 'run npm run build to regenerate oclif.manifest.json'

interface ManifestCommand {
  id: string
  summary?: string
  hidden?: boolean
  flags: Record<string, unknown>
  args: Record<string, unknown>
}

const MANIFEST = join(ROOT, 'oclif.manifest.json')
const manifest = (existsSync(MANIFEST) ? JSON.parse(readFileSync(MANIFEST, 'utf8')) : {commands: {}}) as {commands: Record<string, ManifestCommand>}

const commandFiles = (dir: string): string[] =>
  readdirSync(dir, {withFileTypes: true}).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return commandFiles(path)
    return entry.isFile() && /\.tsx?$/.test(entry.name) && !/\.(test|d)\.tsx?$/.test(entry.name) ? [path] : []
  })

/** `infra/install.ts` → `infra:install` (oclif's default id for a nested command file). */
const idOf = (file: string): string =>
  relative(COMMANDS_DIR, file)
    .replace(/\.tsx?$/, '')
    .split(sep)
    .filter((part) => part !== 'index')
    .join(':')

const files = commandFiles(COMMANDS_DIR)
const commands = new Map<string, typeof Command>()

beforeAll(async () => {
  for (const file of files) {
    const mod = (await import(pathToFileURL(file).href)) as {default?: typeof Command}
    if (!mod.default) throw new Error(`${relative(ROOT, file)} has no default export`)
    commands.set(idOf(file), mod.default)
  }
})

const sorted = (keys: Iterable<string>) => [...keys].sort()

const expectedFlags = (Cmd: typeof Command): string[] => {
  const names = new Set(Object.keys({...Cmd.baseFlags, ...Cmd.flags}))
  if (Cmd.enableJsonFlag) names.add('json')
  return sorted(names)
}

describe('oclif.manifest.json', () => {
  it('was written by the build', () => {
    expect(existsSync(MANIFEST), `no oclif.manifest.json: ${REGENERATE}`).toBe(true)
  })

  it('finds the command files', () => {
    expect(files.length).toBeGreaterThan(0)
    expect(files.map(idOf)).toContain('infra:install')
  })

  it.each(files.map((file) => [idOf(file), file]))('lists %s as it is in src', (id) => {
    const Cmd = commands.get(id)!
    const entry = manifest.commands[id]
    expect(entry, `${id} is missing from the manifest: ${REGENERATE}`).toBeDefined()
    expect(sorted(Object.keys(entry!.flags)), `flags of ${id} differ: ${REGENERATE}`).toEqual(expectedFlags(Cmd))
    expect(sorted(Object.keys(entry!.args ?? {})), `args of ${id} differ: ${REGENERATE}`).toEqual(sorted(Object.keys(Cmd.args ?? {})))
    expect(entry!.summary, `summary of ${id} differs: ${REGENERATE}`).toBe(Cmd.summary)
    expect(Boolean(entry!.hidden), `hidden of ${id} differs: ${REGENERATE}`).toBe(Boolean(Cmd.hidden))
  })

  it('has no command that no longer exists in src', () => {
    const known = new Set(files.map(idOf))
    const stale = Object.keys(manifest.commands).filter((id) => !known.has(id))
    expect(stale, `stale commands in the manifest: ${REGENERATE}`).toEqual([])
  })

  it('keeps the inherited base flags on every command', () => {
    for (const [id, entry] of Object.entries(manifest.commands)) {
      expect(Object.keys(entry.flags), `base flags of ${id}: ${REGENERATE}`).toEqual(expect.arrayContaining(['data-dir', 'log-level']))
    }
  })
})
