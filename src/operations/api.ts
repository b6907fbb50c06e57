import type {Config} from '../config/index.js'
import {StateStore} from '../infra/state.js'
import {errorMessage, UserError} from '../lib/errors.js'

export interface ApiResponse<T = any> {
  status: number
  body: T
}

export interface Api {
  baseUrl: string
  request<T = any>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse<T>>
}

/** The platform's HTTP API: MM_API_URL, else the gateway the running platform recorded. */
export const platformApi = (config: Config): Api => {
  const recorded = new StateStore(config.dataDir).read()?.supervisor?.http
  const baseUrl = config.apiUrl ?? recorded
  if (!baseUrl) throw new UserError('the platform API is not running', 'start it with mm up -d (or set MM_API_URL)')
  return createApi(baseUrl)
}

export const createApi = (baseUrl: string): Api => ({
  baseUrl,
  async request(method, path, body, headers = {}) {
    let res: Response
    try {
      res = await fetch(`${baseUrl}${path}`, {
        method,
        headers: {...(body === undefined ? {} : {'content-type': 'application/json'}), ...headers},
        body: body === undefined ? undefined : JSON.stringify(body),
      })
    } catch (error) {
      throw new UserError(`cannot reach the platform API at ${baseUrl}: ${errorMessage((error as {cause?: unknown}).cause ?? error)}`, 'is the platform up? see mm status')
    }
    const text = await res.text()
    let parsed: unknown = text
    try {
      parsed = text ? JSON.parse(text) : undefined
    } catch {
      /* not JSON: keep the text */
    }
    return {status: res.status, body: parsed as any}
  },
})
