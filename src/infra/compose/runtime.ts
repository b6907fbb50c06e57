import {rmSync} from 'node:fs'
import {ExecaError, execa} from 'execa'

import {ExternalError, InterruptedError, PreflightError, ReadinessTimeoutError, UsageError, errorMessage, indent, tail} from '../../lib/errors.js'
import type {Logger} from '../../lib/logger.js'
import {maskUrl} from '../../lib/urls.js'
import {defaultProber} from '../probes.js'
import {type PlatformState, StateStore} from '../state.js'
import {type Endpoints, type InfraRuntime, type Prober, SERVER_NAMES, type ServerName, type ServerStatus, type UpOptions, type UpResult} from '../types.js'

/** Fixed project name: one compose platform per Docker engine, whatever the working directory. */
export const COMPOSE_PROJECT = 'mercadomio'

export interface ComposeOptions {
  composeFile: string
  dataDir: string
  logger: Logger
  /** MM_*_PORT and MM_POSTGRES_PASSWORD; whatever is missing takes the compose file's default. */
  env?: Record<string, string>
  probeTimeoutMs?: number
}

/** One container as `docker compose ps --format json` describes it (the fields mm reads). */
export type PsEntry = {Service: string; State?: string; Health?: string; ExitCode?: number}

/** Newer compose prints one JSON object per line, older ones (< 2.21) one JSON array. */
export const parsePs = (stdout: string): PsEntry[] => {
  const text = stdout.trim()
  if (text.startsWith('[')) return JSON.parse(text) as PsEntry[]
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as PsEntry)
}

/** The published ports: the variable that moves each one (as in the compose file) and its default. */
export const COMPOSE_PORTS = {
  postgres: {main: ['MM_POSTGRES_PORT', 5432]},
  redis: {main: ['MM_REDIS_PORT', 6379]},
  rabbitmq: {main: ['MM_RABBITMQ_PORT', 5672], management: ['MM_RABBITMQ_MANAGEMENT_PORT', 15672]},
  kafka: {main: ['MM_KAFKA_PORT', 9092]},
  mongo: {main: ['MM_MONGO_PORT', 27017]},
} as const satisfies Record<ServerName, Record<string, readonly [string, number]>>

/** Ports, password and URLs, settled once so that mm and compose always agree on them. */
const settle = (env: Record<string, string>) => {
  const vars: Record<string, string> = {MM_POSTGRES_PASSWORD: env.MM_POSTGRES_PASSWORD ?? 'mercadomio'}
  const ports = {} as Record<ServerName, Record<string, number>>
  for (const name of SERVER_NAMES) {
    ports[name] = {}
    for (const [key, [variable, standard]] of Object.entries(COMPOSE_PORTS[name])) {
      const port = env[variable] === undefined ? standard : Number(env[variable])
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`${variable} must be a port number (got "${env[variable]}")`)
      ports[name][key] = port
      vars[variable] = String(port)
    }
  }
  const host = '127.0.0.1'
  const urls: Record<ServerName, string> = {
    postgres: `postgres://mm:${encodeURIComponent(vars.MM_POSTGRES_PASSWORD!)}@${host}:${ports.postgres.main}/mercadomio`,
    redis: `redis://${host}:${ports.redis.main}`,
    rabbitmq: `amqp://guest:guest@${host}:${ports.rabbitmq.main}`,
    kafka: `${host}:${ports.kafka.main}`,
    // The replica set's member is named localhost:27017 inside the container: talk to it directly.
    mongo: `mongodb://${host}:${ports.mongo.main}/?directConnection=true`,
  }
  const endpoints: Endpoints = {...urls, kafka: [urls.kafka], rabbitmqManagement: `http://guest:guest@${host}:${ports.rabbitmq.management}`}
  return {vars, ports, urls, endpoints, password: vars.MM_POSTGRES_PASSWORD!}
}

/** Runs `docker compose -f <file> -p mercadomio ...` against a Docker engine. */
export const createComposeRuntime = (opts: ComposeOptions): InfraRuntime & {state: StateStore} => {
  const store = new StateStore(opts.dataDir)
  const probeTimeoutMs = opts.probeTimeoutMs ?? 2000
  const settings = settle(opts.env ?? {})
  const log = opts.logger

  const compose = (args: string[], signal?: AbortSignal) => {
    log.debug('compose.run', {args: args.join(' ')})
    return execa('docker', ['compose', '-f', opts.composeFile, '-p', COMPOSE_PROJECT, ...args], {env: settings.vars, stdin: 'ignore', cancelSignal: signal})
  }
  const stderrOf = (error: unknown): string => (error instanceof ExecaError ? String(error.stderr ?? '') || error.shortMessage : errorMessage(error))

  /** Failures that say Docker itself is missing, whatever the command. */
  const preflight = (error: unknown): PreflightError | undefined => {
    if (error instanceof ExecaError && error.code === 'ENOENT') return new PreflightError('docker is not installed (no `docker` on PATH)', 'install Docker, or use --infra native')
    const text = stderrOf(error)
    if (/Cannot connect to the Docker daemon|Is the docker daemon running|error during connect/i.test(text)) return new PreflightError(`no Docker engine answers:\n${indent(tail(text, 3))}`, 'start Docker, or use --infra native')
    if (/unknown command: docker compose|'compose' is not a docker command|unknown shorthand flag: 'f'/i.test(text)) return new PreflightError('the Docker Compose plugin is not installed', 'install docker-compose-plugin, or use --infra native')
    return undefined
  }

  const containers = async (): Promise<Map<string, PsEntry>> =>
    new Map(parsePs((await compose(['ps', '--all', '--format', 'json'])).stdout).map((c) => [c.Service, c]))
  const isHealthy = (c: PsEntry | undefined): boolean => c?.State === 'running' && (c.Health ?? '') === 'healthy'

  /** `.mm/state.json` tells later commands (status, run, seed…) where the servers answer. */
  const recordState = (): void => {
    const servers = Object.fromEntries(SERVER_NAMES.map((name) => [name, {url: settings.urls[name], ports: settings.ports[name]}]))
    const extra = {rabbitmqManagement: settings.endpoints.rabbitmqManagement}
    store.update((previous) => ({...previous, version: 1, runtime: 'compose', secrets: {postgresPassword: settings.password}, servers, extra}))
  }

  const endpointsOf = (state: PlatformState | undefined): Endpoints | undefined => {
    const s = state?.runtime === 'compose' ? state.servers : undefined
    if (!s?.postgres || !s.redis || !s.rabbitmq || !s.kafka || !s.mongo) return undefined
    const management = state!.extra.rabbitmqManagement ?? settings.endpoints.rabbitmqManagement
    return {postgres: s.postgres.url, redis: s.redis.url, rabbitmq: s.rabbitmq.url, rabbitmqManagement: management, kafka: [s.kafka.url], mongo: s.mongo.url}
  }

  /** Stops what a failed `up` started; volumes stay, and `docker compose logs` still shows why. */
  const rollback = (names: ServerName[]) => compose(['stop', ...names]).catch((e: unknown) => log.warn('compose.rollback_failed', {error: stderrOf(e)}))
  const describe = (c: PsEntry | undefined): string =>
    c ? `container ${c.State ?? 'unknown'}${c.Health ? ` (${c.Health})` : ''}${c.ExitCode ? ` exit code ${c.ExitCode}` : ''}` : 'container not created'

  return {
    kind: 'compose',
    state: store,

    async up(options: UpOptions): Promise<UpResult> {
      const previous = store.read()
      if (previous && previous.runtime !== 'compose' && Object.keys(previous.servers).length > 0) {
        throw new PreflightError(`the platform in ${opts.dataDir} runs with ${previous.runtime}`, `run mm down first, or use --infra ${previous.runtime}`)
      }
      const before = await containers().catch(() => new Map<string, PsEntry>())
      const toStart = SERVER_NAMES.filter((name) => !isHealthy(before.get(name)))
      for (const name of SERVER_NAMES.filter((n) => !toStart.includes(n))) options.onProgress?.({type: 'ready', server: name, ms: 0, reused: true})
      if (toStart.length === 0) {
        recordState()
        return {endpoints: settings.endpoints, started: []}
      }
      for (const name of toStart) options.onProgress?.({type: 'starting', server: name, detail: maskUrl(settings.urls[name])})

      const began = Date.now()
      const seconds = Math.max(1, Math.ceil(options.waitTimeoutMs / 1000))
      try {
        await compose(['up', '-d', '--wait', '--wait-timeout', String(seconds)], options.signal)
      } catch (error) {
        const early = preflight(error)
        if (early) throw early
        if (options.signal.aborted || (error instanceof ExecaError && error.isCanceled)) {
          await rollback(toStart)
          throw new InterruptedError()
        }
        const stderr = stderrOf(error)
        const after = await containers().catch(() => new Map<string, PsEntry>())
        const failed = toStart.filter((name) => !isHealthy(after.get(name)))
        for (const name of failed) options.onProgress?.({type: 'failed', server: name, error: describe(after.get(name))})
        const lines = String(failed.length > 2 ? 3 : 10)
        const logs = failed.length > 0 ? await compose(['logs', '--no-color', '--tail', lines, ...failed]).then((r) => r.stdout.trimEnd(), () => '') : ''
        const detail = [logs, tail(stderr, 5)].filter(Boolean).join('\n')
        await rollback(toStart)
        const hint = failed.length > 0 ? `see: docker compose -p ${COMPOSE_PROJECT} logs ${failed.join(' ')}` : undefined
        if (/not healthy after/i.test(stderr)) {
          throw new ReadinessTimeoutError(`infrastructure not healthy after ${seconds}s (docker compose up --wait):\n${indent(tail(detail, 20))}`, hint)
        }
        throw new ExternalError('docker compose up', detail, hint)
      }
      for (const name of toStart) options.onProgress?.({type: 'ready', server: name, ms: Date.now() - began, reused: false})
      recordState()
      return {endpoints: settings.endpoints, started: toStart}
    },

    async down({volumes}): Promise<void> {
      try {
        await compose(volumes ? ['down', '-v'] : ['down'])
      } catch (error) {
        throw preflight(error) ?? new ExternalError(`docker compose down${volumes ? ' -v' : ''}`, stderrOf(error))
      }
      if (volumes) rmSync(opts.dataDir, {recursive: true, force: true})
      else store.update((s) => s && {...s, servers: {}, extra: {}})
    },

    async status(prober: Prober = defaultProber): Promise<ServerStatus[]> {
      const endpoints = endpointsOf(store.read()) ?? settings.endpoints
      let psError: string | undefined
      const found = await containers().catch((error: unknown) => {
        psError = preflight(error)?.message ?? `docker compose ps failed: ${tail(stderrOf(error), 3)}`
        return undefined
      })
      return Promise.all(
        SERVER_NAMES.map(async (name): Promise<ServerStatus> => {
          const url = name === 'kafka' ? endpoints.kafka.join(',') : endpoints[name]
          const base = {name, runtime: 'compose' as const, url: maskUrl(url)}
          const c = found?.get(name)
          if (!c) return {...base, healthy: false, error: psError ?? 'not started'}
          if (c.State !== 'running') return {...base, healthy: false, error: describe(c)}
          const unhealthy = c.Health && c.Health !== 'healthy' ? `container is ${c.Health}` : undefined
          try {
            const {version} = await prober(name, endpoints, probeTimeoutMs)
            return {...base, healthy: !unhealthy, version, error: unhealthy}
          } catch (error) {
            return {...base, healthy: false, error: unhealthy ?? errorMessage(error)}
          }
        }),
      )
    },

    endpoints: async () => endpointsOf(store.read()),
  }
}

/** True when a Docker engine answers `docker info` within the time given (`--infra auto`). */
export const dockerEngineAvailable = async (timeoutMs = 3000): Promise<boolean> => {
  try {
    const {stdout} = await execa('docker', ['info', '--format', '{{.ServerVersion}}'], {timeout: timeoutMs, stdin: 'ignore'})
    if (stdout.trim() === '') return false
    // An engine without the compose plugin cannot run the compose runtime: native mode then.
    await execa('docker', ['compose', 'version'], {timeout: timeoutMs, stdin: 'ignore'})
    return true
  } catch {
    return false
  }
}
