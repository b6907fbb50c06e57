import {PreflightError, ReadinessTimeoutError, errorMessage} from '../lib/errors.js'
import {waitFor} from '../lib/proc.js'
import {maskUrl} from '../lib/urls.js'
import {defaultProber} from './probes.js'
import {type Endpoints, type InfraRuntime, type Prober, SERVER_NAMES, type ServerStatus} from './types.js'

/** Servers someone else runs (managed clusters): nothing is started, only probed. */
export const createExternalRuntime = (endpoints: Partial<Endpoints>, probeTimeoutMs = 2000): InfraRuntime => {
  const complete = (): Endpoints => {
    const missing = (['postgres', 'redis', 'rabbitmq', 'kafka', 'mongo'] as const).filter(
      (k) => !endpoints[k] || (Array.isArray(endpoints[k]) && endpoints[k].length === 0),
    )
    if (missing.length > 0) {
      const vars = {postgres: 'MM_POSTGRES_URL', redis: 'MM_REDIS_URL', rabbitmq: 'MM_RABBITMQ_URL', kafka: 'MM_KAFKA_BROKERS', mongo: 'MM_MONGODB_URL'}
      throw new PreflightError(
        `--infra external needs the URL of every server; missing: ${missing.map((m) => vars[m]).join(', ')}`,
        'set them in the environment or in .env',
      )
    }
    const e = endpoints as Endpoints
    return {...e, rabbitmqManagement: e.rabbitmqManagement ?? defaultManagement(e.rabbitmq)}
  }
  const statusOf = async (e: Endpoints, prober: Prober = defaultProber): Promise<ServerStatus[]> =>
    Promise.all(
      SERVER_NAMES.map(async (name) => {
        const url = maskUrl(name === 'kafka' ? e.kafka.join(',') : e[name])
        try {
          const r = await prober(name, e, probeTimeoutMs)
          return {name, runtime: 'external' as const, url, healthy: true, version: r.version}
        } catch (error) {
          return {name, runtime: 'external' as const, url, healthy: false, error: errorMessage(error)}
        }
      }),
    )
  return {
    kind: 'external',
    async up({signal, waitTimeoutMs}) {
      const e = complete()
      let down: ServerStatus[] = []
      const answered = await waitFor(
        async () => {
          down = (await statusOf(e)).filter((s) => !s.healthy)
          return down.length === 0 ? true : undefined
        },
        {timeoutMs: waitTimeoutMs, intervalMs: 500, signal},
      )
      if (!answered) {
        throw new ReadinessTimeoutError(
          `external servers not reachable: ${down.map((d) => `${d.name} (${d.error})`).join('; ')}`,
          'check the MM_*_URL settings and that the servers run',
        )
      }
      return {endpoints: e, started: []}
    },
    async down() {},
    status: async (prober) => statusOf(complete(), prober),
    endpoints: async () => complete(),
  }
}

/** The management API usually sits on 15672 of the AMQP host, with the same credentials. */
export const defaultManagement = (amqpUrl: string): string => {
  const u = new URL(amqpUrl)
  return `http://${u.username || 'guest'}:${u.password || 'guest'}@${u.hostname}:15672`
}
