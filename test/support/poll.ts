/**
 * The tests' one way to wait (poll with a deadline, never sleep) and one JSON-over-HTTP helper,
 * shared by the integration, e2e and chaos tiers. The wait is the platform's own waitFor.
 */
import {waitFor} from '../../services/shared/wait.js'

/** Polls `check` until it returns something other than undefined/false, or fails after the deadline (with the last error it threw). */
export const eventually = async <T>(
  check: () => Promise<T | undefined | false>,
  {timeoutMs = 15_000, intervalMs = 50, what = 'condition'} = {},
): Promise<T> => {
  let last: unknown
  const value = await waitFor(
    async () => {
      try {
        const v = await check()
        return v === false ? undefined : v
      } catch (error) {
        last = error
        return undefined
      }
    },
    {timeoutMs, intervalMs},
  )
  if (value === undefined) throw new Error(`${what} not reached within ${timeoutMs}ms${last ? `: ${(last as Error).message}` : ''}`)
  return value
}

/** JSON over HTTP against the gateway. */
export const http = async <T = any>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{status: number; body: T}> => {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {...(body === undefined ? {} : {'content-type': 'application/json'}), ...headers},
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await res.text()
  return {status: res.status, body: (text ? JSON.parse(text) : undefined) as T}
}
