/** Resolves after `ms`, or at once when `abort` aborts (never rejects). */
export const sleep = (ms: number, abort?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      abort?.removeEventListener('abort', done)
      resolve()
    }
    abort?.addEventListener('abort', done, {once: true})
  })

/** Resolves once the signal aborts (at once if it already has). */
export const untilAborted = (abort: AbortSignal): Promise<void> =>
  new Promise((resolve) => (abort.aborted ? resolve() : abort.addEventListener('abort', () => resolve(), {once: true})))

/** Polls `check` until it returns a value or the deadline passes (then undefined); a throwing check counts as no value yet. */
export const waitFor = async <T>(
  check: () => Promise<T | undefined>,
  {timeoutMs, intervalMs = 200, signal: abort}: {timeoutMs: number; intervalMs?: number; signal?: AbortSignal},
): Promise<T | undefined> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check().catch(() => undefined)
    if (value !== undefined) return value
    if (Date.now() >= deadline || abort?.aborted) return undefined
    await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())), abort)
  }
}
