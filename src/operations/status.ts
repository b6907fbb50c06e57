import type {Config} from '../config/index.js'
import {selectRuntime} from '../infra/platform.js'
import {StateStore} from '../infra/state.js'
import type {RuntimeKind, ServerStatus} from '../infra/types.js'
import {errorMessage} from '../lib/errors.js'
import {createApi} from '../lib/http.js'
import type {Logger} from '../lib/logger.js'
import {isAlive} from '../lib/proc.js'
import {resolveSelection} from '../runtime/components.js'
import type {RunnerReport} from '../runtime/supervisor.js'
import {type Collector, createCollector, type PlatformSnapshot} from './collectors/index.js'

export interface PlatformStatus {
  runtime: RuntimeKind | 'none'
  healthy: boolean
  servers: ServerStatus[]
  supervisor: {running: boolean; pid?: number; mode?: string; http?: string; error?: string}
  runners: RunnerReport[]
  /** Runners that `mm up [component…] [--exclude c]` left out, and why (they do not count against health). */
  notStarted?: {name: string; reason: string}[]
  /** Queues, consumer lag, DLQs, projections and aggregates (absent when no server answers). */
  platform?: PlatformSnapshot
}

/** Health of every server and runner, as `mm status`, `mm up` (when already up) and `mm dash` show it. */
export const collectStatus = async (config: Config, logger: Logger, collector?: Collector | 'none'): Promise<PlatformStatus> => {
  const state = new StateStore(config.dataDir).read()
  const hasServers = state !== undefined && Object.keys(state.servers).length > 0
  // Servers mm did not start are recorded by their runtime alone (mm up --infra external).
  if (!hasServers && config.infra !== 'external' && state?.runtime !== 'external') {
    return {runtime: 'none', healthy: false, servers: [], supervisor: {running: false}, runners: [], notStarted: []}
  }
  const runtime = await selectRuntime(config, logger, hasServers ? state!.runtime : 'external')
  // One set of open connections serves the probes and the platform snapshot. `mm status` opens
  // and closes its own; the dashboard passes one it keeps across refreshes.
  const endpoints = collector === 'none' ? undefined : await runtime.endpoints().catch(() => undefined)
  const own = collector === 'none' ? undefined : (collector ?? (endpoints ? createCollector(endpoints, logger) : undefined))
  try {
    const [servers, runnersResult] = await Promise.all([runtime.status(own?.prober), fetchRunners(state?.supervisor)])
    const {running, runners, error: supervisorError} = runnersResult
    const healthy = servers.every((s) => s.healthy) && running && !supervisorError && runners.every((r) => r.state === 'ready')
    const platform = own && servers.some((s) => s.healthy) ? await own.collect() : undefined
    const sup = state?.supervisor
    const notStarted = running && sup?.selection ? notStartedBy(sup.selection) : []
    return {
      platform,
      runtime: runtime.kind,
      healthy,
      servers,
      supervisor: {
        running,
        pid: running ? sup?.pid : undefined,
        mode: sup?.mode,
        http: running ? sup?.http : undefined,
        error: supervisorError ?? (sup && !running ? `supervisor ${sup.pid} is not running` : undefined),
      },
      runners,
      notStarted,
    }
  } finally {
    if (own && own !== collector) await own.close()
  }
}

const notStartedBy = (selection: {components: string[]; excluded: string[]}): {name: string; reason: string}[] => {
  try {
    return resolveSelection(selection).notStarted
  } catch {
    return [] // a selection recorded by another version of mm
  }
}

/** The runners' states and counters, from the gateway's /health. */
const fetchRunners = async (sup: {pid: number; http?: string} | undefined): Promise<{running: boolean; runners: RunnerReport[]; error?: string}> => {
  const running = sup !== undefined && isAlive(sup.pid)
  if (!running || !sup.http) return {running, runners: []}
  try {
    const {body} = await createApi(sup.http).request<{runners?: RunnerReport[]} | undefined>('GET', '/health', undefined, undefined, {timeoutMs: 2000})
    if (!Array.isArray(body?.runners)) throw new Error('/health answered without runners')
    return {running, runners: body.runners}
  } catch (error) {
    return {running, runners: [], error: `gateway ${sup.http} not answering: ${errorMessage((error as {cause?: unknown}).cause ?? error)}`}
  }
}
