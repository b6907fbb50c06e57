import type {Logger} from '../lib/logger.js'

/**
 * What the runner hosts need from tracing. The tracer provider is installed by bin/run.js before
 * any module loads (the instrumentations must see pg and mongodb being imported), but it
 * records nothing until a host configures it with the settings and the database it knows.
 */
export interface TracingHandle {
  configure(o: TracingSettings & {postgresUrl: string; logger: Logger}): Promise<void>
  /** Writes the spans still buffered (before a command reads the store, before exit). */
  flush(): Promise<void>
  shutdown(): Promise<void>
}

export interface TracingSettings {
  /** Share of new traces recorded, 0 to 1 (MM_TRACE_SAMPLE). */
  sample: number
  /** How long spans are kept (MM_TRACE_RETENTION). */
  retentionMs: number
}

const KEY = Symbol.for('mm.tracing')
type Holder = {[KEY]?: TracingHandle}

/** The tracing bin/run.js installed in this process, if any (MM_TRACE=off, or a command that runs no runner: none). */
export const installedTracing = (): TracingHandle | undefined => (globalThis as Holder)[KEY]
export const setInstalledTracing = (handle: TracingHandle): void => {
  ;(globalThis as Holder)[KEY] = handle
}
