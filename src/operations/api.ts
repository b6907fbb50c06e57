import type {Config} from '../config/index.js'
import {StateStore} from '../infra/state.js'
import {UserError} from '../lib/errors.js'
import {type Api, createApi} from '../lib/http.js'
import {isAlive} from '../lib/proc.js'

export type {Api, ApiResponse} from '../lib/http.js'

/** The platform's HTTP API: MM_API_URL, else the gateway the running platform recorded. */
export const platformApi = (config: Config): Api => {
  const recorded = new StateStore(config.dataDir).read()?.supervisor?.http
  const baseUrl = config.apiUrl ?? recorded
  if (!baseUrl) throw new UserError('the platform API is not running', 'start it with mm up -d (or set MM_API_URL)')
  return createApi(baseUrl)
}

/** The gateway to call: MM_API_URL, else the one a live supervisor recorded; undefined when neither. */
export const runningGateway = (config: Config): string | undefined => {
  const state = new StateStore(config.dataDir).read()
  return config.apiUrl ?? (state?.supervisor && isAlive(state.supervisor.pid) ? state.supervisor.http : undefined)
}
