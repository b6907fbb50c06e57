import type {Config} from '../config/index.js'
import type {Endpoints} from '../infra/types.js'
import {createApi} from '../lib/http.js'
import type {Logger} from '../lib/logger.js'
import {buildRunners} from './components.js'
import {type Gateway, startGateway} from './gateway.js'
import type {Namespace} from '../infra/topology/spec.js'
import type {PlatformApi, Runner} from './runner.js'
import {startSupervisor, type Supervisor} from './supervisor.js'
import {installedTracing} from '../telemetry/handle.js'

export interface PlatformHost {
  supervisor: Supervisor
  gateway: Gateway
  /** Stops the gateway, then the runners in reverse start order. */
  stop(): Promise<void>
}

/** Runs the runners and the HTTP gateway in this process (foreground `mm up` or the detached supervisor). */
export const startPlatform = async (deps: {
  config: Config
  endpoints: Endpoints
  logger: Logger
  runners?: Runner[]
  infra?: () => Record<string, unknown>
  port?: number
  ns?: Namespace
}): Promise<PlatformHost> => {
  let gateway: Gateway | undefined
  // Calls between components go to the platform's API: this gateway once it listens, or MM_API_URL.
  const apiUrl = () => deps.config.apiUrl ?? gateway?.url ?? `http://${deps.config.httpHost}:${deps.config.httpPort}`
  const api: PlatformApi = {
    url: apiUrl,
    async get(path, timeoutMs) {
      if (!deps.config.apiUrl && gateway) {
        const res = await gateway.app.inject({method: 'GET', url: path})
        return {status: res.statusCode, body: res.body ? (JSON.parse(res.body) as unknown) : undefined}
      }
      return createApi(apiUrl()).request('GET', path, undefined, undefined, {timeoutMs})
    },
  }
  // Tracing (installed by bin/run.js unless MM_TRACE=off) starts recording once the span store's database is known.
  const tracing = deps.config.trace === 'on' ? installedTracing() : undefined
  if (tracing) {
    await tracing
      .configure({
        sample: deps.config.traceSample,
        retentionMs: deps.config.traceRetentionMs,
        postgresUrl: deps.endpoints.postgres,
        logger: deps.logger.child('trace'),
      })
      .catch((error: Error) => deps.logger.warn('trace.store_unavailable', {error: error.message, hint: 'the runners run untraced'}))
  }
  const supervisor = await startSupervisor(deps.runners ?? (await buildRunners(deps.config)), {...deps, api})
  try {
    gateway = await startGateway({
      host: deps.config.httpHost,
      port: deps.port ?? deps.config.httpPort,
      logger: deps.logger.child('gateway'),
      reports: supervisor.reports,
      infra: deps.infra ?? (() => ({})),
      mounts: supervisor.mounts(),
    })
  } catch (error) {
    await supervisor.stop()
    throw error
  }
  deps.logger.info('gateway.listening', {url: gateway.url})
  const listening = gateway
  return {
    supervisor,
    gateway: listening,
    async stop() {
      await listening.close().catch(() => {})
      await supervisor.stop()
      await tracing?.flush().catch(() => {})
    },
  }
}
