import {Agent, type Dispatcher, request} from 'undici'

import type {Config} from '../config/index.js'
import {StateStore} from '../infra/state.js'
import {errorMessage, UserError} from '../lib/errors.js'

// JSON of whatever shape the route answers; callers that care name T.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface ApiResponse<T = any> {
  status: number
  body: T
}

export interface Api {
  baseUrl: string
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  request<T = any>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse<T>>
}

/** The platform's HTTP API: MM_API_URL, else the gateway the running platform recorded. */
export const platformApi = (config: Config): Api => {
  const recorded = new StateStore(config.dataDir).read()?.supervisor?.http
  const baseUrl = config.apiUrl ?? recorded
  if (!baseUrl) throw new UserError('the platform API is not running', 'start it with mm up -d (or set MM_API_URL)')
  return createApi(baseUrl)
}

// One keep-alive pool for every request of the process: a load run reuses its connections, and
// undici's request() costs a fraction of fetch()'s CPU per call (measured: ~40 µs against ~200 µs),
// which matters when the generator shares the machine with the platform it measures. Idle
// connections do not keep the process alive.
let agent: Agent | undefined
const dispatcher = () => (agent ??= new Agent({connections: 256, keepAliveTimeout: 10_000}))

export const createApi = (baseUrl: string): Api => ({
  baseUrl,
  async request(method, path, body, headers = {}) {
    let status: number
    let text: string
    try {
      const res = await request(`${baseUrl}${path}`, {
        method: method as Dispatcher.HttpMethod,
        headers: {...(body === undefined ? {} : {'content-type': 'application/json'}), ...headers},
        body: body === undefined ? undefined : JSON.stringify(body),
        dispatcher: dispatcher(),
      })
      status = res.statusCode
      text = await res.body.text()
    } catch (error) {
      throw new UserError(
        `cannot reach the platform API at ${baseUrl}: ${errorMessage((error as {cause?: unknown}).cause ?? error)}`,
        'is the platform up? see mm status',
      )
    }
    let parsed: unknown = text
    try {
      parsed = text ? JSON.parse(text) : undefined
    } catch {
      /* not JSON: keep the text */
    }
    return {status, body: parsed as never}
  },
})
