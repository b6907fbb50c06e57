/**
 * The tests' one way to wait (poll with a deadline, never sleep) and one JSON-over-HTTP helper,
 * shared by the integration, e2e and chaos tiers.
 */
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls `check` until it returns something other than undefined/false, or fails after the deadline. */
export const eventually = async <T>(
  check: () => Promise<T | undefined | false>,
  {timeoutMs = 15_000, intervalMs = 50, what = 'condition'} = {},
): Promise<T> => {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await check()
      if (value !== undefined && value !== false) return value
    } catch (error) {
      last = error
    }
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs}ms${last ? `: ${(last as Error).message}` : ''}`)
    await sleep(intervalMs)
  }
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
