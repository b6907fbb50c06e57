import type {Endpoints} from '../../services/shared/runner.js'

export const SERVER_NAMES = ['postgres', 'redis', 'rabbitmq', 'kafka', 'mongo'] as const
export type ServerName = (typeof SERVER_NAMES)[number]
export type RuntimeKind = 'native' | 'compose' | 'external'

/** Where each server answers (services/shared/runner.ts). Secrets may be inside: mask before printing. */
export type {Endpoints}

export interface ServerStatus {
  name: ServerName
  runtime: RuntimeKind
  /** Masked URL. */
  url: string
  healthy: boolean
  version?: string
  /** What actually serves it, when it is not the real thing (e.g. mongo-java-server). */
  implementation?: string
  pid?: number
  error?: string
  /** Where its data lives (native mode). */
  dataDir?: string
}

export interface UpOptions {
  signal: AbortSignal
  waitTimeoutMs: number
  onProgress?: (event: ProgressEvent) => void
}

export type ProgressEvent =
  | {type: 'starting'; server: ServerName; detail?: string}
  | {type: 'ready'; server: ServerName; ms: number; reused: boolean}
  | {type: 'failed'; server: ServerName; error: string}

export interface UpResult {
  endpoints: Endpoints
  /** Servers this call started (others were already running). */
  started: ServerName[]
}

/** One way of providing the five servers: compose, native or external. */
export interface InfraRuntime {
  readonly kind: RuntimeKind
  up(options: UpOptions): Promise<UpResult>
  down(options: {volumes: boolean}): Promise<void>
  /** Health of each server; `prober` replaces the default one-shot probes (the dashboard keeps connections open). */
  status(prober?: Prober): Promise<ServerStatus[]>
  endpoints(): Promise<Endpoints | undefined>
}

export type Prober = (name: ServerName, endpoints: Endpoints, timeoutMs: number) => Promise<{version?: string}>
