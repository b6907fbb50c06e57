import {existsSync, rmSync} from 'node:fs'

import type {Config} from '../config/index.js'
import {removeOutside} from '../infra/native/placement.js'
import {selectRuntime} from '../infra/platform.js'
import {StateStore} from '../infra/state.js'
import type {Logger} from '../lib/logger.js'
import {isAlive, stopProcess} from '../lib/proc.js'

export interface DownResult {
  runtime: string
  stoppedSupervisor: boolean
  removedData: boolean
  dataDir: string
  /** Data kept outside the data dir (PostgreSQL's, when its OS user cannot reach `.mm`). */
  outside: string[]
}

/** Stops the runners (the supervisor), then the servers; `volumes` also deletes `.mm/`. */
export const down = async (opts: {config: Config; logger: Logger; volumes: boolean}): Promise<DownResult> => {
  const store = new StateStore(opts.config.dataDir)
  const state = store.read()
  let stoppedSupervisor = false
  if (state?.supervisor && isAlive(state.supervisor.pid) && state.supervisor.pid !== process.pid) {
    opts.logger.info('supervisor.stopping', {pid: state.supervisor.pid})
    await stopProcess(state.supervisor.pid, {timeoutMs: 30_000, group: false})
    stoppedSupervisor = true
  }
  store.update((s) => s && {...s, supervisor: undefined})
  const runtime = state ? await selectRuntime(opts.config, opts.logger, state.runtime) : undefined
  if (runtime) await runtime.down({volumes: opts.volumes})
  else if (opts.volumes) {
    if (existsSync(opts.config.dataDir)) rmSync(opts.config.dataDir, {recursive: true, force: true})
    removeOutside(opts.config.dataDir, []) // derivable even when state.json is gone
  }
  const outside = Object.values(state?.dataDirs ?? {})
  return {runtime: runtime?.kind ?? 'none', stoppedSupervisor, removedData: opts.volumes, dataDir: opts.config.dataDir, outside}
}
