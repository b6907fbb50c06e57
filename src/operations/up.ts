import {spawn} from 'node:child_process'
import {closeSync, mkdirSync, openSync, readFileSync} from 'node:fs'
import {join} from 'node:path'

import {type Config, configToEnv, type InfraMode} from '../config/index.js'
import {selectRuntime} from '../infra/platform.js'
import {StateStore} from '../infra/state.js'
import {applyTopology} from '../infra/topology/apply.js'
import {TOPOLOGY} from '../infra/topology/spec.js'
import type {Endpoints, InfraRuntime, ProgressEvent, ServerName} from '../infra/types.js'
import {checkDataDir} from '../lib/data-dir.js'
import {MmError, PreflightError, ReadinessTimeoutError, indent, tail} from '../lib/errors.js'
import type {Logger} from '../lib/logger.js'
import {packageRoot} from '../lib/package-root.js'
import {isAlive, stopProcess, waitFor} from '../lib/proc.js'
import {maskUrl} from '../lib/urls.js'
import {buildRunners, resolveSelection, type Selection} from '../runtime/components.js'
import {startPlatform, type PlatformHost} from '../runtime/host.js'
import {acquireLock} from './lock.js'
import {collectStatus, type PlatformStatus} from './status.js'

export interface UpOptions {
  config: Config
  logger: Logger
  mode: InfraMode
  detach: boolean
  signal: AbortSignal
  onProgress?: (e: ProgressEvent) => void
  /** `mm up [component…] [--exclude c]`: which runners to start (default: all five). */
  selection?: Selection
}

export interface UpResult {
  alreadyUp: boolean
  runtime: string
  durationMs: number
  started: ServerName[]
  endpoints: {name: string; url: string}[]
  status?: PlatformStatus
  /** The runners this call started, or (already up) the ones running. */
  runners: string[]
  /** Runners left out by the selection, and why. */
  notStarted: {name: string; reason: string}[]
  /** Already up with other runners than the ones asked for: what to do to change them. */
  note?: string
  /** Foreground only: the runners and gateway living in this process. */
  host?: PlatformHost
  infra?: InfraRuntime
}

export const SUPERVISOR_LOG = 'mm.log'

export const endpointRows = (e: Endpoints, gateway?: string): {name: string; url: string}[] => [
  ...(gateway ? [{name: 'gateway', url: gateway}] : []),
  {name: 'postgres', url: maskUrl(e.postgres)},
  {name: 'redis', url: maskUrl(e.redis)},
  {name: 'rabbitmq', url: maskUrl(e.rabbitmq)},
  {name: 'rabbitmq-ui', url: maskUrl(e.rabbitmqManagement)},
  {name: 'kafka', url: e.kafka.join(',')},
  {name: 'mongo', url: maskUrl(e.mongo)},
]

/**
 * `mm up`: infrastructure, migrations and topology, then the runners (here, or in a detached
 * supervisor). On a platform already up it only reports status. A failed start rolls back what
 * this call started.
 */
export const up = async (opts: UpOptions): Promise<UpResult> => {
  const began = Date.now()
  const {config, logger} = opts
  const selection: Selection = opts.selection ?? {components: [], excluded: []}
  const {start, notStarted} = resolveSelection(selection) // usage errors before anything starts
  const dataDir = checkDataDir(config.dataDir)
  if (!dataDir.ok) throw new PreflightError(dataDir.detail, 'choose another with --data-dir or MM_DATA_DIR')
  const store = new StateStore(config.dataDir)
  mkdirSync(join(config.dataDir, 'logs'), {recursive: true})
  const release = acquireLock(join(config.dataDir, 'up.lock'))
  try {
    const before = store.read()
    const supervisorAlive = before?.supervisor !== undefined && isAlive(before.supervisor.pid)
    const infra = await selectRuntime(config, logger, opts.mode)
    if (supervisorAlive) {
      const status = await collectStatus(config, logger, 'none')
      if (status.healthy) {
        // What runs keeps its runtime: its endpoints come from that one, whatever --infra asked.
        const current = before.runtime === infra.kind ? infra : await selectRuntime(config, logger, before.runtime)
        const endpoints = await current.endpoints()
        const running = status.runners.map((r) => r.name)
        const same = running.length === start.length && start.every((n) => running.includes(n))
        const notes = same
          ? []
          : [
              `runners already running: ${running.join(', ')}; they were not restarted for the selection asked (${start.join(', ')}): run mm down, then mm up again with it`,
            ]
        // An explicit --infra that differs from what runs is not applied to a running platform.
        const asked = opts.mode
        if (asked !== 'auto' && asked !== before.runtime)
          notes.push(`the platform runs in ${before.runtime} mode; --infra ${asked} was not applied: run mm down, then mm up --infra ${asked}`)
        const note = notes.length > 0 ? notes.join('; ') : undefined
        return {
          alreadyUp: true,
          runtime: before.runtime,
          durationMs: Date.now() - began,
          started: [],
          endpoints: endpoints ? endpointRows(endpoints, before.supervisor?.http) : [],
          status,
          runners: running,
          notStarted: status.notStarted ?? [],
          note,
        }
      }
    }
    const result = await infra.up({signal: opts.signal, waitTimeoutMs: config.waitTimeoutMs, onProgress: opts.onProgress})
    // Servers someone else runs leave no state of their own: record the runtime, so that the
    // detached supervisor, mm status and mm down find the platform this folder runs.
    if (infra.kind === 'external') {
      store.update((s) => (s && Object.keys(s.servers).length > 0 ? s : {...s, version: 1, runtime: 'external', servers: {}, extra: {}}))
    }
    const rollback = async () => {
      if (result.started.length > 0 && infra.kind === 'native') {
        logger.warn('up.rollback', {servers: result.started})
        await infra.down({volumes: false})
      }
    }
    try {
      await applyTopology(result.endpoints, TOPOLOGY, logger.child('topology'))
    } catch (error) {
      await rollback()
      throw new MmError(`applying migrations and topology failed: ${(error as Error).message}`, 'see mm logs; fix the cause and run mm up again')
    }
    if (supervisorAlive) {
      // The runners were already up; this call repaired the infrastructure under them.
      const running = resolveSelection(before.supervisor?.selection ?? {components: [], excluded: []})
      return {
        alreadyUp: false,
        runtime: infra.kind,
        durationMs: Date.now() - began,
        started: result.started,
        endpoints: endpointRows(result.endpoints, before.supervisor?.http),
        runners: running.start,
        notStarted: running.notStarted,
      }
    }
    if (opts.detach) {
      const http = await spawnSupervisor(config, store, opts.signal, selection).catch(async (error) => {
        await rollback()
        throw error
      })
      return {
        alreadyUp: false,
        runtime: infra.kind,
        durationMs: Date.now() - began,
        started: result.started,
        endpoints: endpointRows(result.endpoints, http),
        runners: start,
        notStarted,
      }
    }
    let host: PlatformHost
    try {
      host = await startPlatform({
        config,
        endpoints: result.endpoints,
        logger,
        runners: await buildRunners(config, start),
        infra: () => ({runtime: infra.kind}),
      })
    } catch (error) {
      await rollback()
      throw error
    }
    store.update(
      (s) =>
        s && {...s, supervisor: {pid: process.pid, mode: 'foreground', startedAt: new Date().toISOString(), http: host.gateway.url, ready: true, selection}},
    )
    return {
      alreadyUp: false,
      runtime: infra.kind,
      durationMs: Date.now() - began,
      started: result.started,
      endpoints: endpointRows(result.endpoints, host.gateway.url),
      runners: start,
      notStarted,
      host,
      infra,
    }
  } finally {
    release()
  }
}

/** Starts `mm supervise` in the background and waits until it reports ready (or dies). */
const spawnSupervisor = async (config: Config, store: StateStore, signal: AbortSignal, selection: Selection): Promise<string> => {
  const logFile = join(config.dataDir, 'logs', SUPERVISOR_LOG)
  const fd = openSync(logFile, 'a')
  const offset = readFileSync(logFile).length
  // The selection travels as arguments; the supervisor records it in state.json for mm status.
  const select = [...selection.components.flatMap((c) => ['--component', c]), ...selection.excluded.flatMap((c) => ['--exclude', c])]
  const child = spawn(process.execPath, [process.argv[1] ?? join(packageRoot(), 'bin', 'run.js'), 'supervise', '--data-dir', config.dataDir, ...select], {
    cwd: config.cwd,
    detached: true,
    stdio: ['ignore', fd, fd],
    env: {...process.env, ...configToEnv(config)},
  })
  child.unref()
  closeSync(fd)
  // Ready (its gateway) or gone ends the wait; past the timeout, or interrupted, it is stopped.
  const outcome = await waitFor(
    async () => {
      const sup = store.read()?.supervisor
      if (sup && sup.pid === child.pid && sup.ready && sup.http) return {http: sup.http}
      return isAlive(child.pid) ? undefined : {exited: true}
    },
    {timeoutMs: config.waitTimeoutMs, intervalMs: 100, signal},
  )
  if (outcome?.http) return outcome.http
  const logTail = () => indent(tail(readFileSync(logFile, 'utf8').slice(offset) || '(empty)', 15), '    ')
  if (outcome?.exited) throw new MmError(`the supervisor exited during start-up\n  last lines of ${logFile}:\n${logTail()}`, 'see mm logs')
  await stopProcess(child.pid!)
  throw new ReadinessTimeoutError(`runners not ready after ${config.waitTimeoutMs / 1000}s\n${logTail()}`, 'see mm logs; raise --wait-timeout')
}
