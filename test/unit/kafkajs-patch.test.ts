import {createRequire} from 'node:module'

import {describe, expect, it} from 'vitest'

import {Kafka, nextPendingCheck} from '../../services/shared/kafkajs.js'

describe('kafkajs request queue scheduling (services/shared/kafkajs.ts)', () => {
  const now = 1_000_000

  it('arms no timer when nothing waits and nothing is throttled (kafkajs armed a 1 ms one forever)', () => {
    expect(nextPendingCheck({throttledUntil: -1, pending: []}, now)).toBeUndefined()
    expect(nextPendingCheck({throttledUntil: now - 5, pending: []}, now)).toBeUndefined()
  })

  it('checks again when requests wait: at the end of a throttle, else after 10 ms', () => {
    expect(nextPendingCheck({throttledUntil: now + 250, pending: [{}]}, now)).toBe(250)
    expect(nextPendingCheck({throttledUntil: -1, pending: [{}]}, now)).toBe(10)
  })

  it('keeps a check at the end of a throttle even with nothing waiting, as kafkajs does', () => {
    expect(nextPendingCheck({throttledUntil: now + 40, pending: []}, now)).toBe(40)
  })

  it('is installed on the RequestQueue that the re-exported Kafka uses', () => {
    expect(typeof Kafka).toBe('function')
    const RequestQueue = createRequire(import.meta.url)('kafkajs/src/network/requestQueue/index.js')
    const queue = {throttledUntil: -1, pending: [] as unknown[], throttleCheckTimeoutId: null as NodeJS.Timeout | null, checkPendingRequests() {}}
    RequestQueue.prototype.scheduleCheckPendingRequests.call(queue)
    expect(queue.throttleCheckTimeoutId).toBeNull()
    queue.pending.push({})
    RequestQueue.prototype.scheduleCheckPendingRequests.call(queue)
    expect(queue.throttleCheckTimeoutId).not.toBeNull()
    clearTimeout(queue.throttleCheckTimeoutId!)
  })
})
