import {join} from 'node:path'

import {Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {selectRuntime} from '../infra/platform.js'
import {StateStore} from '../infra/state.js'
import {UserError} from '../lib/errors.js'
import {createLogger, fileSink} from '../lib/logger.js'
import {untilAborted} from '../lib/proc.js'
import {buildRunners, resolveSelection, type Selection} from '../runtime/components.js'
import {startPlatform} from '../runtime/host.js'
import {SUPERVISOR_LOG} from '../operations/up.js'

/** The background process behind `mm up -d`: runs the runners and the gateway until SIGTERM. */
export default class Supervise extends BaseCommand<typeof Supervise> {
  static override hidden = true
  static override summary = 'Run the runners in the background (started by mm up -d)'
  static override enableJsonFlag = false
  // Internal flags set by mm up -d (no MM_* twins: only mm up passes them).
  static override flags = {
    component: Flags.string({multiple: true, description: 'a runner to start (repeatable; default: all)'}),
    exclude: Flags.string({multiple: true, description: 'a runner not to start (repeatable)'}),
  }

  public async run(): Promise<void> {
    const logger = createLogger(fileSink(join(this.mm.dataDir, 'logs', SUPERVISOR_LOG)), this.mm.logLevel)
    const store = new StateStore(this.mm.dataDir)
    const state = store.read()
    if (!state) throw new UserError(`no platform state in ${this.mm.dataDir}`, 'start with mm up -d')
    const endpoints = await (await selectRuntime(this.mm, logger, state.runtime)).endpoints()
    if (!endpoints) throw new UserError('the infrastructure is not up', 'start with mm up -d')
    const selection: Selection = {components: this.flags.component ?? [], excluded: this.flags.exclude ?? []}
    const runners = await buildRunners(this.mm, resolveSelection(selection).start)
    const host = await startPlatform({config: this.mm, endpoints, logger, runners, infra: () => ({runtime: state.runtime})})
    store.update(
      (s) => s && {...s, supervisor: {pid: process.pid, mode: 'detached', startedAt: new Date().toISOString(), http: host.gateway.url, ready: true, selection}},
    )
    logger.info('supervisor.ready', {pid: process.pid, gateway: host.gateway.url})
    await untilAborted(this.signal)
    logger.info('supervisor.stopping')
    await host.stop()
    store.update((s) => s && (s.supervisor?.pid === process.pid ? {...s, supervisor: undefined} : s))
  }
}
