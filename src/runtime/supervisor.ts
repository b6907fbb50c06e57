import {type Namespace, rootNamespace} from '../infra/topology/spec.js'
import type {Endpoints} from '../infra/types.js'
import {errorMessage} from '../lib/errors.js'
import type {Logger} from '../lib/logger.js'
import {emptyCounters, type PlatformApi, type RunnerCounters, type Runner, type RunningRunner} from './runner.js'

export type RunnerState = 'starting' | 'ready' | 'stopping' | 'stopped' | 'failed'

export interface RunnerReport {
  name: string
  state: RunnerState
  startedAt?: string
  uptimeSeconds?: number
  counters: RunnerCounters
  error?: string
  info?: Record<string, unknown>
}

export interface Supervisor {
  reports(): RunnerReport[]
  /** HTTP routes of the runners that have some, for the gateway. */
  mounts(): {name: string; routes: NonNullable<RunningRunner['routes']>}[]
  /** Stops every runner in reverse start order, each within the timeout. */
  stop(timeoutMs?: number): Promise<void>
}

interface Slot {
  runner: Runner
  state: RunnerState
  controller: AbortController
  running?: RunningRunner
  startedAt?: number
  error?: string
}

/**
 * Starts runners in order, each only after the previous is ready; a failure stops those already
 * started (reverse order) and rethrows naming the runner.
 */
export const startSupervisor = async (
  runners: Runner[],
  deps: {endpoints: Endpoints; logger: Logger; ns?: Namespace; api: PlatformApi},
): Promise<Supervisor> => {
  const slots: Slot[] = runners.map((runner) => ({runner, state: 'starting', controller: new AbortController()}))

  const stopSlot = async (slot: Slot, timeoutMs: number) => {
    if (!slot.running || slot.state === 'stopped') return
    slot.state = 'stopping'
    slot.controller.abort()
    let timer: NodeJS.Timeout | undefined
    const timedOut = await Promise.race([
      slot.running.stopped.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), timeoutMs)
      }),
    ])
    clearTimeout(timer)
    if (timedOut) deps.logger.warn('runner.stop_timeout', {runner: slot.runner.name, timeoutMs})
    slot.state = 'stopped'
  }

  const supervisor: Supervisor = {
    reports: () =>
      slots.map((s) => ({
        name: s.runner.name,
        state: s.state,
        startedAt: s.startedAt ? new Date(s.startedAt).toISOString() : undefined,
        uptimeSeconds: s.startedAt && s.state === 'ready' ? Math.round((Date.now() - s.startedAt) / 1000) : undefined,
        counters: s.running?.counters() ?? emptyCounters(),
        error: s.error,
        info: s.running?.info?.(),
      })),
    mounts: () => slots.flatMap((s) => (s.running?.routes ? [{name: s.runner.name, routes: s.running.routes}] : [])),
    async stop(timeoutMs = 15_000) {
      for (const slot of [...slots].reverse()) await stopSlot(slot, timeoutMs)
    },
  }

  for (const slot of slots) {
    const logger = deps.logger.child(slot.runner.name)
    try {
      slot.running = await slot.runner.start({
        signal: slot.controller.signal,
        logger,
        endpoints: deps.endpoints,
        ns: deps.ns ?? rootNamespace,
        api: deps.api,
      })
      slot.state = 'ready'
      slot.startedAt = Date.now()
      logger.info('runner.ready')
      slot.running.stopped.then(
        () => {
          if (slot.state === 'ready') {
            slot.state = 'failed'
            slot.error = 'stopped unexpectedly'
            logger.error('runner.stopped_unexpectedly')
          }
        },
        (error) => {
          slot.state = 'failed'
          slot.error = errorMessage(error)
          logger.error('runner.failed', {error: slot.error})
        },
      )
    } catch (error) {
      slot.state = 'failed'
      slot.error = errorMessage(error)
      await supervisor.stop()
      throw new RunnerStartError(slot.runner.name, slot.error)
    }
  }
  return supervisor
}

export class RunnerStartError extends Error {
  constructor(
    readonly runner: string,
    message: string,
  ) {
    super(`runner ${runner} failed to start: ${message}`)
  }
}
