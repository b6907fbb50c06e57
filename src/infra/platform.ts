import {join} from 'node:path'

import type {Config, InfraMode} from '../config/index.js'
import {UserError} from '../lib/errors.js'
import type {Logger} from '../lib/logger.js'
import {packageRoot} from '../lib/package-root.js'
import {createExternalRuntime, defaultManagement} from './external.js'
import {createNativeRuntime} from './native/runtime.js'
import {StateStore} from './state.js'
import type {Endpoints, InfraRuntime} from './types.js'

/** URLs given explicitly (flags, MM_* variables, .env). */
export const configuredEndpoints = (config: Config): Partial<Endpoints> => ({
  postgres: config.postgresUrl,
  redis: config.redisUrl,
  rabbitmq: config.rabbitmqUrl,
  rabbitmqManagement: config.rabbitmqManagementUrl ?? (config.rabbitmqUrl ? defaultManagement(config.rabbitmqUrl) : undefined),
  kafka: config.kafkaBrokers && [...config.kafkaBrokers],
  mongo: config.mongodbUrl,
})

/**
 * Picks the runtime: an explicit --infra wins; `auto` follows what `.mm/state.json` says is
 * running, else compose when a Docker engine answers, else native.
 */
export const selectRuntime = async (config: Config, logger: Logger, mode: InfraMode = config.infra): Promise<InfraRuntime> => {
  let kind = mode
  if (kind === 'auto') {
    const state = new StateStore(config.dataDir).read()
    if (state && Object.keys(state.servers).length > 0) kind = state.runtime
    else {
      const {dockerEngineAvailable} = await import('./compose/runtime.js')
      kind = (await dockerEngineAvailable(1500)) ? 'compose' : 'native'
    }
    logger.debug('runtime.selected', {runtime: kind})
  }
  switch (kind) {
    case 'external':
      return createExternalRuntime(configuredEndpoints(config))
    case 'compose': {
      const {createComposeRuntime} = await import('./compose/runtime.js')
      return createComposeRuntime({
        composeFile: join(packageRoot(), 'compose', 'docker-compose.yml'),
        dataDir: config.dataDir,
        logger,
        env: {...config.compose},
      })
    }
    default:
      return createNativeRuntime({dataDir: config.dataDir, cacheDir: config.cacheDir, ports: 'standard', persistent: true, logger})
  }
}

/**
 * Endpoints for commands that talk to a running platform (status, seed, load, dash…):
 * explicit URLs win, then what the running platform recorded.
 */
export const resolveEndpoints = async (config: Config, logger: Logger): Promise<Endpoints | undefined> => {
  const explicit = configuredEndpoints(config)
  const state = new StateStore(config.dataDir).read()
  let recorded: Endpoints | undefined
  if (state && Object.keys(state.servers).length > 0) recorded = await (await selectRuntime(config, logger, state.runtime)).endpoints()
  const merged = {...recorded, ...Object.fromEntries(Object.entries(explicit).filter(([, v]) => v !== undefined))} as Partial<Endpoints>
  return merged.postgres && merged.redis && merged.rabbitmq && merged.kafka && merged.mongo
    ? ({...merged, rabbitmqManagement: merged.rabbitmqManagement ?? defaultManagement(merged.rabbitmq)} as Endpoints)
    : undefined
}

/**
 * The running platform's endpoints, or a clear error saying what the command could not reach
 * (`nothing`: "no DLQs to reach", "no read model to check") and how to start it.
 */
export const requireEndpoints = async (
  config: Config,
  logger: Logger,
  nothing: string,
  hint = 'start it with mm up -d (or point the MM_* URLs at running servers)',
): Promise<Endpoints> => {
  const endpoints = await resolveEndpoints(config, logger)
  if (!endpoints) throw new UserError(`the platform is not running, so there is ${nothing}`, hint)
  return endpoints
}
