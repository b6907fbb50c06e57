import {spawn} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync} from 'node:fs'
import {join} from 'node:path'

import {ExitCode, MmError, PreflightError, errorMessage, indent, tail} from '../../lib/errors.js'
import type {Logger} from '../../lib/logger.js'
import {choosePorts} from '../../lib/ports.js'
import {cmdline, groupMembers, isAlive, signal, sleep, stopProcess, waitFor} from '../../lib/proc.js'
import {maskUrl} from '../../lib/urls.js'
import {defaultProber} from '../probes.js'
import {type PlatformState, StateStore} from '../state.js'
import type {Endpoints, InfraRuntime, Prober, ServerName, ServerStatus, UpOptions, UpResult} from '../types.js'
import {defaultDataDir, ensureOutsideHome, instanceOf, type Placement, placeData, removeOutside} from './placement.js'
import type {NativeContext, NativeServer, Requirement} from './server.js'
import {kafka} from './servers/kafka.js'
import {mongo} from './servers/mongo.js'
import {postgres} from './servers/postgres.js'
import {rabbitManagementUrl, rabbitmq} from './servers/rabbitmq.js'
import {redis} from './servers/redis.js'

/** Start order; stop order is the reverse. */
export const NATIVE_SERVERS: readonly NativeServer[] = [postgres, redis, rabbitmq, kafka, mongo]

export interface NativeOptions {
  dataDir: string
  cacheDir: string
  /** `standard` prefers 5432, 6379…; `ephemeral` takes any free port (tests). */
  ports: 'standard' | 'ephemeral'
  persistent: boolean
  logger: Logger
  probeTimeoutMs?: number
}

export const logFileOf = (dataDir: string, name: string): string => join(dataDir, 'logs', `${name}.log`)

/** Where each server's data lives (or would live on the next `mm up`), for `mm doctor`. */
export const nativeDataPlacements = (dataDir: string, state: PlatformState | undefined): Placement[] =>
  NATIVE_SERVERS.map((server) => placeData(dataDir, server, state?.dataDirs?.[server.name]))

export const nativeRequirements = (cacheDir: string): {server: ServerName; requirement: Requirement}[] =>
  NATIVE_SERVERS.flatMap((s) => s.requirements(cacheDir).map((requirement) => ({server: s.name, requirement})))

/** mm's own supervisor of real server processes: PostgreSQL, Redis, RabbitMQ, Kafka, mongo-java-server. */
export const createNativeRuntime = (opts: NativeOptions): InfraRuntime & {state: StateStore} => {
  const store = new StateStore(opts.dataDir)
  const instance = instanceOf(opts.dataDir)
  const probeTimeoutMs = opts.probeTimeoutMs ?? 2000

  /** `.mm/data/<server>`, or where state.json says it was placed outside `.mm` (placement.ts). */
  const dataDirOf = (server: NativeServer, state: PlatformState | undefined): string =>
    state?.dataDirs?.[server.name] ?? defaultDataDir(opts.dataDir, server.name)

  const contextOf = (server: NativeServer, state: PlatformState, ports: Record<string, number>): NativeContext => ({
    dir: dataDirOf(server, state),
    cacheDir: opts.cacheDir,
    ports,
    persistent: opts.persistent,
    postgresPassword: state.secrets?.postgresPassword ?? '',
    instance,
  })

  const endpointsOf = (state: PlatformState): Endpoints | undefined => {
    const s = state.servers
    if (!s.postgres || !s.redis || !s.rabbitmq || !s.kafka || !s.mongo) return undefined
    return {
      postgres: s.postgres.url,
      redis: s.redis.url,
      rabbitmq: s.rabbitmq.url,
      rabbitmqManagement: state.extra.rabbitmqManagement ?? rabbitManagementUrl({ports: s.rabbitmq.ports}),
      kafka: [s.kafka.url],
      mongo: s.mongo.url,
    }
  }

  /** Endpoints for probing one server, even while others are missing. */
  const probeEndpoints = (state: PlatformState): Endpoints => ({
    postgres: state.servers.postgres?.url ?? '',
    redis: state.servers.redis?.url ?? '',
    rabbitmq: state.servers.rabbitmq?.url ?? '',
    rabbitmqManagement: state.servers.rabbitmq ? rabbitManagementUrl({ports: state.servers.rabbitmq.ports}) : '',
    kafka: state.servers.kafka ? [state.servers.kafka.url] : [],
    mongo: state.servers.mongo?.url ?? '',
  })

  const isRunning = (server: NativeServer, pid: number | undefined): boolean => isAlive(pid) && (cmdline(pid!)?.includes(server.processMatch) ?? true)

  const healthy = async (
    server: NativeServer,
    state: PlatformState,
    prober: Prober = defaultProber,
  ): Promise<{ok: boolean; version?: string; error?: string}> => {
    try {
      const result = await prober(server.name, probeEndpoints(state), probeTimeoutMs)
      return {ok: true, version: result.version}
    } catch (error) {
      return {ok: false, error: errorMessage(error)}
    }
  }

  const stopServer = async (server: NativeServer, state: PlatformState): Promise<void> => {
    const entry = state.servers[server.name]
    if (!entry) return
    if (entry.pid && isRunning(server, entry.pid)) {
      opts.logger.info('server.stopping', {server: server.name, pid: entry.pid})
      await stopProcess(entry.pid, {timeoutMs: 30_000})
    } else if (entry.pid) {
      // Killed, it may still be a zombie until its parent reaps it, and PostgreSQL refuses to start
      // while the pid in its postmaster.pid answers (the chaos tier met this): wait for it to go.
      const pid = entry.pid
      await waitFor(async () => (existsSync(`/proc/${pid}`) ? undefined : true), {timeoutMs: 10_000, intervalMs: 50})
      // The process mm started is gone, but what it started may not be: RabbitMQ's launcher
      // script killed alone leaves its Erlang VM holding the ports and the data. Servers are
      // started detached, so their processes share the launcher's process group.
      const orphans = groupMembers(entry.pid)
      if (orphans.length > 0) {
        opts.logger.warn('server.orphans_killed', {server: server.name, pids: orphans})
        for (const pid of orphans) signal(pid, 'SIGKILL', false)
        await waitFor(async () => (groupMembers(entry.pid!).length === 0 ? true : undefined), {timeoutMs: 10_000, intervalMs: 50})
      }
    }
    await server.cleanup?.(contextOf(server, state, entry.ports))
  }

  const startOne = async (server: NativeServer, state: PlatformState, options: UpOptions, started: number): Promise<void> => {
    const entry = state.servers[server.name]!
    const ctx = contextOf(server, state, entry.ports)
    if (ctx.dir !== defaultDataDir(opts.dataDir, server.name)) ensureOutsideHome(opts.dataDir)
    mkdirSync(ctx.dir, {recursive: true})
    await server.prepare(ctx)
    const logFile = logFileOf(opts.dataDir, server.name)
    const spec = server.spawn(ctx)
    const fd = openSync(logFile, 'a')
    writeSync(fd, `--- mm: starting ${server.name} at ${new Date().toISOString()} on ports ${JSON.stringify(ctx.ports)}\n`)
    let spawnError: Error | undefined
    try {
      const child = spawn(spec.file, spec.args, {
        cwd: ctx.dir,
        detached: true,
        stdio: ['ignore', fd, fd],
        env: {...process.env, ...spec.env},
        uid: spec.user?.uid,
        gid: spec.user?.gid,
      })
      child.once('error', (error) => (spawnError = error))
      child.unref()
      entry.pid = child.pid
      entry.startedAt = new Date().toISOString()
    } finally {
      closeSync(fd)
    }
    store.update((current) => ({...(current ?? state), servers: {...(current ?? state).servers, [server.name]: entry}}))
    const deadline = started + options.waitTimeoutMs
    for (;;) {
      if (options.signal.aborted) throw new MmError('interrupted', undefined, ExitCode.interrupted, 'interrupted')
      if (spawnError) throw new StartError(server.name, `cannot run ${spec.file}: ${spawnError.message}`, logFile)
      const boot = server.bootstrap
        ? await server.bootstrap(ctx).then(
            () => undefined,
            (error: unknown) => errorMessage(error),
          )
        : undefined
      const check = boot === undefined ? await healthy(server, state) : {ok: false, error: boot}
      if (check.ok) {
        entry.version = check.version ?? server.version(opts.cacheDir)
        return
      }
      if (!isAlive(entry.pid)) throw new StartError(server.name, `${server.name} exited during start-up`, logFile)
      if (Date.now() > deadline)
        throw new StartError(server.name, `${server.name} not ready after ${options.waitTimeoutMs / 1000}s (${check.error})`, logFile, true)
      await sleep(250, options.signal)
    }
  }

  return {
    kind: 'native',
    state: store,

    async up(options: UpOptions): Promise<UpResult> {
      const began = Date.now()
      const previous = store.read()
      if (previous && previous.runtime !== 'native' && Object.keys(previous.servers).length > 0) {
        throw new PreflightError(`the platform in ${opts.dataDir} runs with ${previous.runtime}`, 'run mm down first, or use --infra ' + previous.runtime)
      }
      const state: PlatformState = previous?.runtime === 'native' ? previous : {version: 1, runtime: 'native', servers: {}, extra: {}}
      state.secrets ??= {postgresPassword: randomBytes(18).toString('base64url')}

      // Which servers already run and answer?
      const checks = await Promise.all(
        NATIVE_SERVERS.map(async (server) => {
          const entry = state.servers[server.name]
          if (!entry || !isRunning(server, entry.pid)) return false
          return (await healthy(server, state)).ok
        }),
      )
      const toStart = NATIVE_SERVERS.filter((_, i) => !checks[i])
      for (const server of NATIVE_SERVERS.filter((_, i) => checks[i])) {
        options.onProgress?.({type: 'ready', server: server.name, ms: 0, reused: true})
      }
      if (toStart.length === 0) return {endpoints: endpointsOf(state)!, started: []}

      const missing = toStart.flatMap((s) =>
        s
          .requirements(opts.cacheDir)
          .filter((r) => !r.ok)
          .map((r) => `${s.name}: ${r.what} is missing`),
      )
      if (missing.length > 0) {
        throw new PreflightError(`native mode cannot start:\n${indent([...new Set(missing)].join('\n'))}`, 'run: mm infra install')
      }

      // A half-dead server (process alive but not answering) is stopped before it is started again.
      for (const server of toStart) await stopServer(server, state)

      // A server whose OS user cannot reach `.mm/data` keeps its data outside `.mm`, recorded so
      // that later commands find the same data whatever happens to the permissions meanwhile.
      mkdirSync(join(opts.dataDir, 'data'), {recursive: true})
      for (const server of toStart) {
        if (state.dataDirs?.[server.name]) continue
        const placed = placeData(opts.dataDir, server)
        if (!placed.reason) continue
        state.dataDirs = {...state.dataDirs, [server.name]: placed.dir}
        opts.logger.info('server.data_outside', {server: server.name, dir: placed.dir, reason: placed.reason})
      }

      const taken = new Set<number>()
      for (const server of NATIVE_SERVERS.filter((_, i) => checks[i])) {
        for (const port of Object.values(state.servers[server.name]!.ports)) taken.add(port)
      }
      for (const server of toStart) {
        const previousPorts = state.servers[server.name]?.ports ?? {}
        const ports = await choosePorts(
          server.ports.map((p) => ({...p, previous: previousPorts[p.name]})),
          opts.ports,
          taken,
        )
        const ctx = contextOf(server, state, ports)
        state.servers[server.name] = {ports, url: server.url(ctx)}
        if (server.name === 'rabbitmq') state.extra.rabbitmqManagement = rabbitManagementUrl(ctx)
      }
      mkdirSync(join(opts.dataDir, 'logs'), {recursive: true})
      store.write(state)

      const results = await Promise.allSettled(
        toStart.map(async (server) => {
          const t0 = Date.now()
          options.onProgress?.({type: 'starting', server: server.name, detail: maskUrl(state.servers[server.name]!.url)})
          await startOne(server, state, options, began)
          options.onProgress?.({type: 'ready', server: server.name, ms: Date.now() - t0, reused: false})
        }),
      )
      const failures = results.flatMap((r, i) => (r.status === 'rejected' ? [{server: toStart[i]!, error: r.reason as unknown}] : []))
      if (failures.length > 0) {
        for (const f of failures) options.onProgress?.({type: 'failed', server: f.server.name, error: errorMessage(f.error)})
        // Roll back what this call started, newest first.
        for (const server of [...toStart].reverse()) {
          await stopServer(server, state)
          delete state.servers[server.name]
        }
        store.write(state)
        throw startFailure(failures.map((f) => f.error))
      }
      store.write(state)
      return {endpoints: endpointsOf(state)!, started: toStart.map((s) => s.name)}
    },

    async down({volumes}): Promise<void> {
      const state = store.read()
      if (state) {
        for (const server of [...NATIVE_SERVERS].reverse()) await stopServer(server, state)
        store.update((s) => s && {...s, servers: {}, extra: {}})
      }
      if (volumes) {
        rmSync(opts.dataDir, {recursive: true, force: true})
        removeOutside(opts.dataDir, Object.values(state?.dataDirs ?? {}))
      }
    },

    async status(prober?: Prober): Promise<ServerStatus[]> {
      const state = store.read()
      return Promise.all(
        NATIVE_SERVERS.map(async (server): Promise<ServerStatus> => {
          const entry = state?.servers[server.name]
          const base = {name: server.name, runtime: 'native' as const, implementation: server.implementation, dataDir: dataDirOf(server, state)}
          if (!state || !entry) return {...base, url: '', healthy: false, error: 'not started'}
          const check = await healthy(server, state, prober)
          const running = isRunning(server, entry.pid)
          return {
            ...base,
            url: maskUrl(entry.url),
            healthy: check.ok,
            version: check.version ?? entry.version ?? server.version(opts.cacheDir),
            pid: running ? entry.pid : undefined,
            error: check.ok ? undefined : running ? check.error : `process ${entry.pid ?? '?'} is not running`,
          }
        }),
      )
    },

    async endpoints(): Promise<Endpoints | undefined> {
      const state = store.read()
      return state && endpointsOf(state)
    },
  }
}

/** A server that did not come up, with the tail of its log. */
export class StartError extends MmError {
  constructor(
    readonly server: ServerName,
    message: string,
    readonly logFile: string,
    timeout = false,
  ) {
    super(
      `${message}\n  last lines of ${logFile}:\n${indent(tail(readLog(logFile), 15), '    ')}`,
      `see the full log with: mm logs ${server}`,
      timeout ? ExitCode.readinessTimeout : ExitCode.failure,
      timeout ? 'readiness_timeout' : 'start_failed',
    )
  }
}

const readLog = (file: string): string => {
  try {
    return readFileSync(file, 'utf8') || '(empty)'
  } catch {
    return '(no log)'
  }
}

const startFailure = (errors: unknown[]): Error => {
  const first = errors.find((e) => e instanceof MmError && e.exitCode === ExitCode.failure) ?? errors[0]
  if (errors.length === 1 || !(first instanceof MmError)) return first as Error
  return new MmError(errors.map(errorMessage).join('\n'), first.hint, first.exitCode, first.code)
}
