import type {Config} from '../config/index.js'
import {selectRuntime} from '../infra/platform.js'
import {StateStore} from '../infra/state.js'
import type {RuntimeKind, ServerStatus} from '../infra/types.js'
import {errorMessage} from '../lib/errors.js'
import type {Logger} from '../lib/logger.js'
import {isAlive} from '../lib/proc.js'
import type {RunnerReport} from '../runtime/supervisor.js'
import {type Collector, createCollector, type PlatformSnapshot} from './collectors/index.js'

export interface PlatformStatus {
  runtime: RuntimeKind | 'none'
  healthy: boolean
  servers: ServerStatus[]
  supervisor: {running: boolean; pid?: number; mode?: string; http?: string; error?: string}
  runners: RunnerReport[]
  /** Queues, consumer lag, DLQs, projections and aggregates (absent when no server answers). */
  platform?: PlatformSnapshot
}

/** Health of every server and runner, as `mm status`, `mm up` (when already up) and `mm dash` show it. */
export const collectStatus = async (config: Config, logger: Logger, collector?: Collector | 'none'): Promise<PlatformStatus> => {
  const state = new StateStore(config.dataDir).read()
  const hasServers = state !== undefined && Object.keys(state.servers).length > 0
  if (!hasServers && config.infra !== 'external') {
    return {runtime: 'none', healthy: false, servers: [], supervisor: {running: false}, runners: []}
  }
  const runtime = await selectRuntime(config, logger, hasServers ? state!.runtime : config.infra)
  const servers = await runtime.status()
  const sup = state?.supervisor
  const running = sup !== undefined && isAlive(sup.pid)
  let runners: RunnerReport[] = []
  let supervisorError: string | undefined
  if (running && sup.http) {
    try {
      const res = await fetch(`${sup.http}/health`, {signal: AbortSignal.timeout(2000)})
      runners = ((await res.json()) as {runners: RunnerReport[]}).runners
    } catch (error) {
      supervisorError = `gateway ${sup.http} not answering: ${errorMessage(error)}`
    }
  }
  const healthy = servers.every((s) => s.healthy) && running && !supervisorError && runners.every((r) => r.state === 'ready')
  let platform: PlatformSnapshot | undefined
  if (collector !== 'none' && servers.some((s) => s.healthy)) {
    const endpoints = await runtime.endpoints()
    if (endpoints) {
      const own = collector ?? createCollector(endpoints, logger)
      try {
        platform = await own.collect()
      } finally {
        if (!collector) await own.close()
      }
    }
  }
  return {
    platform,
    runtime: runtime.kind,
    healthy,
    servers,
    supervisor: {running, pid: running ? sup.pid : undefined, mode: sup?.mode, http: running ? sup.http : undefined, error: supervisorError ?? (sup && !running ? `supervisor ${sup.pid} is not running` : undefined)},
    runners,
  }
}
