import type {Config} from '../config/index.js'
import {resolveEndpoints} from '../infra/platform.js'
import {StateStore} from '../infra/state.js'
import type {Endpoints} from '../infra/types.js'
import {UserError} from '../lib/errors.js'
import type {Logger} from '../lib/logger.js'
import {maskUrl} from '../lib/urls.js'
import {runningGateway} from './api.js'

export interface EnvResult {
  runtime: string
  /** True when passwords are replaced by *** (no --reveal): the values then do not authenticate. */
  masked: boolean
  /** Variable → value, in the order printed. */
  variables: Record<string, string>
}

/**
 * The running platform's connection settings as environment variables: mm's own `MM_*` names
 * (which every mm command reads back) and the names most tools look for. Passwords stay masked
 * unless `reveal`.
 */
export const platformEnv = async (opts: {config: Config; logger: Logger; reveal: boolean}): Promise<EnvResult> => {
  const {config} = opts
  const endpoints = await resolveEndpoints(config, opts.logger)
  if (!endpoints)
    throw new UserError(
      'the platform is not running: there are no connection settings to print',
      'start it with mm up -d (or set the MM_* URLs of external servers)',
    )
  const state = new StateStore(config.dataDir).read()
  const gateway = runningGateway(config)
  return {
    runtime: state && Object.keys(state.servers).length > 0 ? state.runtime : 'external',
    masked: !opts.reveal,
    variables: envVariables(endpoints, gateway, opts.reveal ? (u) => u : maskUrl),
  }
}

/** The variables for a set of endpoints; `show` masks (or not) each URL. */
export const envVariables = (e: Endpoints, gateway: string | undefined, show: (url: string) => string): Record<string, string> => {
  const kafka = e.kafka.join(',')
  return {
    MM_POSTGRES_URL: show(e.postgres),
    MM_REDIS_URL: show(e.redis),
    MM_RABBITMQ_URL: show(e.rabbitmq),
    MM_RABBITMQ_MANAGEMENT_URL: show(e.rabbitmqManagement),
    MM_KAFKA_BROKERS: kafka,
    MM_MONGODB_URL: show(e.mongo),
    ...(gateway ? {MM_API_URL: gateway} : {}),
    DATABASE_URL: show(e.postgres),
    REDIS_URL: show(e.redis),
    AMQP_URL: show(e.rabbitmq),
    KAFKA_BROKERS: kafka,
    MONGODB_URL: show(e.mongo),
  }
}
