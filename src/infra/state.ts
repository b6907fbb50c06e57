import {mkdirSync, readFileSync, renameSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {z} from 'zod'

import {SERVER_NAMES} from './types.js'

const serverState = z.object({
  pid: z.number().int().optional(),
  ports: z.record(z.string(), z.number().int()),
  url: z.string(),
  version: z.string().optional(),
  startedAt: z.string().optional(),
})

const stateSchema = z.object({
  version: z.literal(1),
  runtime: z.enum(['native', 'compose', 'external']),
  secrets: z.object({postgresPassword: z.string()}).optional(),
  servers: z.partialRecord(z.enum(SERVER_NAMES), serverState).default({}),
  extra: z.object({rabbitmqManagement: z.string().optional()}).default({}),
  /** Native servers whose data lives outside `.mm/data` (absolute paths); kept across `mm down`. */
  dataDirs: z.partialRecord(z.enum(SERVER_NAMES), z.string()).optional(),
  supervisor: z
    .object({
      pid: z.number().int(),
      mode: z.enum(['foreground', 'detached']),
      startedAt: z.string(),
      http: z.string().optional(),
      ready: z.boolean().default(false),
      /** The runners `mm up [component…] [--exclude c]` asked for (absent: all five). */
      selection: z.object({components: z.array(z.string()).default([]), excluded: z.array(z.string()).default([])}).optional(),
    })
    .optional(),
})

export type ServerState = z.infer<typeof serverState>
export type PlatformState = z.infer<typeof stateSchema>

/**
 * `.mm/state.json`: the ports, pids and secrets of what mm started, read by every later command.
 * Written atomically (temp file + rename) and readable only by its owner, since it holds the
 * PostgreSQL password.
 */
export class StateStore {
  readonly path: string
  constructor(readonly dataDir: string) {
    this.path = join(dataDir, 'state.json')
  }

  read(): PlatformState | undefined {
    let text: string
    try {
      text = readFileSync(this.path, 'utf8')
    } catch {
      return undefined
    }
    const parsed = stateSchema.safeParse(safeJson(text))
    return parsed.success ? parsed.data : undefined
  }

  /** True when a state file exists but cannot be understood (reported by `mm doctor`). */
  isCorrupt(): boolean {
    try {
      return !stateSchema.safeParse(safeJson(readFileSync(this.path, 'utf8'))).success
    } catch {
      return false
    }
  }

  write(state: PlatformState): void {
    mkdirSync(this.dataDir, {recursive: true})
    const tmp = `${this.path}.${process.pid}.tmp`
    writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n', {mode: 0o600})
    renameSync(tmp, this.path)
  }

  update(fn: (state: PlatformState | undefined) => PlatformState | undefined): PlatformState | undefined {
    const next = fn(this.read())
    if (next) this.write(next)
    return next
  }
}

const safeJson = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
