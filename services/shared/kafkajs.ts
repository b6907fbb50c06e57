/**
 * kafkajs for mm: import `Kafka` and `logLevel` from here, never from 'kafkajs' itself (ESLint
 * says so), so that every client of the process has the fix below.
 *
 * kafkajs 2.2.4 (the last release) re-arms a timer after every answered request, whether or not a
 * request waits, and with nothing throttled its delay is negative, so Node runs it after 1 ms, and
 * again, for as long as the connection lives (tulios/kafkajs#1704; on Node 24 each arming also
 * prints a TimeoutNegativeWarning, #1751). Every broker connection of every consumer, producer and
 * admin thus woke its process a thousand times a second: an idle supervisor spent about 6% of a
 * core on nothing, measured with strace (about 1,300 epoll wake-ups a second), and `mm wait` printed
 * the warning on Node 24. The fix keeps the library's behaviour wherever the check has a purpose (a
 * request waits; the broker throttles us) and arms no timer when there is nothing to check: an
 * answered request checks the queue itself, and a request that cannot be sent at once arms one.
 */
import {createRequire} from 'node:module'

// eslint-disable-next-line @typescript-eslint/no-restricted-imports -- the one place that may: it patches what it re-exports
export {Kafka, logLevel} from 'kafkajs'

/** The fields of kafkajs's RequestQueue that the scheduling reads. */
export interface RequestQueueState {
  throttledUntil: number
  pending: unknown[]
  throttleCheckTimeoutId: NodeJS.Timeout | null
  checkPendingRequests(): void
}

/** kafkajs's own interval for re-checking a queue that waits on in-flight requests. */
const CHECK_PENDING_REQUESTS_INTERVAL = 10

/** When to check the queue again: in ms, or undefined for "no need" (kafkajs always said 1 ms). */
export const nextPendingCheck = (q: Pick<RequestQueueState, 'throttledUntil' | 'pending'>, now = Date.now()): number | undefined => {
  const throttled = q.throttledUntil - now
  if (q.pending.length > 0) return throttled > 0 ? throttled : CHECK_PENDING_REQUESTS_INTERVAL
  return throttled > 0 ? throttled : undefined
}

function scheduleCheckPendingRequests(this: RequestQueueState): void {
  if (this.throttleCheckTimeoutId) return
  const delay = nextPendingCheck(this)
  if (delay === undefined) return
  this.throttleCheckTimeoutId = setTimeout(() => {
    this.throttleCheckTimeoutId = null
    this.checkPendingRequests()
  }, delay)
}

const patch = (): void => {
  let RequestQueue: {prototype?: Record<string, unknown>} | undefined
  try {
    RequestQueue = createRequire(import.meta.url)('kafkajs/src/network/requestQueue/index.js')
  } catch {
    return // another kafkajs than the one this was written for (test/unit/kafkajs-patch.test.ts says so)
  }
  if (typeof RequestQueue?.prototype?.scheduleCheckPendingRequests !== 'function') return
  RequestQueue.prototype.scheduleCheckPendingRequests = scheduleCheckPendingRequests
}
patch()
