import type {Config} from '../config/index.js'
import {resolveEndpoints} from '../infra/platform.js'
import {StateStore} from '../infra/state.js'
import {applyTopology} from '../infra/topology/apply.js'
import {TOPOLOGY} from '../infra/topology/spec.js'
import {UserError} from '../lib/errors.js'
import type {Logger} from '../lib/logger.js'
import {type ComponentName, loadRunner} from '../runtime/components.js'
import {startPlatform, type PlatformHost} from '../runtime/host.js'

/**
 * `mm run <component>`: one runner alone, on its own port, against the running platform's servers
 * (or the MM_* URLs). Topology is applied first (idempotent), so it also works on external servers.
 * Running the same component twice scales it out: consumer groups share the work, one outbox relay
 * stays active.
 */
export const runComponent = async (opts: {config: Config; logger: Logger; component: ComponentName; port: number}): Promise<PlatformHost> => {
  const endpoints = await resolveEndpoints(opts.config, opts.logger)
  if (!endpoints) throw new UserError('no servers to run against', 'start them with mm up -d, or set the MM_*_URL variables')
  await applyTopology(endpoints, TOPOLOGY, opts.logger.child('topology'))
  // Calls to other components go to the platform's gateway, not to this lone runner's port.
  const recorded = new StateStore(opts.config.dataDir).read()?.supervisor?.http
  const apiUrl = opts.config.apiUrl ?? recorded ?? `http://${opts.config.httpHost}:${opts.config.httpPort}`
  const config = Object.freeze({...opts.config, apiUrl})
  const runner = await loadRunner(opts.component, config)
  return startPlatform({config, endpoints, logger: opts.logger, runners: [runner], port: opts.port})
}
