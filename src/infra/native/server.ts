import type {ServerName} from '../types.js'

/** What a native server needs on this machine, for preflight, `mm doctor` and `mm infra install`. */
export interface Requirement {
  what: string
  ok: boolean
  fix: string
}

/** An OS user a server runs as instead of mm's own. */
export interface OsUser {
  name: string
  uid: number
  gid: number
}

export interface NativeContext {
  /** The server's own data directory: `.mm/data/<name>`, or outside `.mm` (see placement.ts). */
  dir: string
  cacheDir: string
  ports: Record<string, number>
  /** Durable data for `mm up`; throwaway, faster servers for tests. */
  persistent: boolean
  postgresPassword: string
  /** Distinguishes instances on one machine (RabbitMQ node names). */
  instance: string
}

export interface SpawnSpec {
  file: string
  args: string[]
  env?: Record<string, string>
  /** Run as this user (PostgreSQL refuses root). */
  user?: OsUser
}

/** One server that mm can run itself: how to prepare, start, reach and clean up after it. */
export interface NativeServer {
  name: ServerName
  ports: {name: string; standard: number}[]
  /** Substring of the command line that identifies it, guarding against a reused pid. */
  processMatch: string
  requirements(cacheDir: string): Requirement[]
  /** The OS user it runs as when not mm's own; that user must reach its data directory. */
  runsAs?(): OsUser | undefined
  /** Idempotent: first-time initialisation of the data directory, config files. */
  prepare(ctx: NativeContext): Promise<void>
  spawn(ctx: NativeContext): SpawnSpec
  url(ctx: NativeContext): string
  /**
   * Idempotent set-up once the process accepts connections (e.g. create the database); tried on
   * every readiness poll until it succeeds, before the health probe.
   */
  bootstrap?(ctx: NativeContext): Promise<void>
  /** After the process is gone (e.g. stop its epmd). */
  cleanup?(ctx: NativeContext): Promise<void>
  /** Shown by status when it is not the upstream server. */
  implementation?: string
  version(cacheDir: string): string | undefined
}
