import {Redis} from 'ioredis'

import {EVENTS_CHANNEL, parseFeed} from '../../../services/shared/events-feed.js'

/**
 * Wakes waiters when the live feed (`mm:events`) mentions their aggregate, so a load run does not
 * hammer the API with polls: a waiter still confirms through the API, and polls slowly as a
 * fallback for a missed pub/sub message.
 */
export interface FeedWatch {
  /** Resolves on the next feed entry about `id`, or after `ms`, whichever comes first. */
  nudge(id: string, ms: number, signal?: AbortSignal): Promise<void>
  close(): Promise<void>
}

export const createFeedWatch = async (redisUrl: string | undefined): Promise<FeedWatch> => {
  const waiters = new Map<string, Set<() => void>>()
  let sub: Redis | undefined
  if (redisUrl) {
    sub = new Redis(redisUrl, {maxRetriesPerRequest: 1, lazyConnect: true})
    sub.on('error', () => {})
    try {
      await sub.connect()
      await sub.subscribe(EVENTS_CHANNEL)
      sub.on('message', (_channel: string, text: string) => {
        for (const entry of parseFeed(text)) {
          const set = entry.id ? waiters.get(entry.id) : undefined
          if (set) for (const wake of set) wake()
        }
      })
    } catch {
      sub.disconnect()
      sub = undefined // no feed: plain polling
    }
  }
  return {
    nudge: (id, ms, signal) =>
      new Promise<void>((resolve) => {
        const set = waiters.get(id) ?? new Set()
        waiters.set(id, set)
        const done = () => {
          clearTimeout(timer)
          set.delete(done)
          if (set.size === 0) waiters.delete(id)
          signal?.removeEventListener('abort', done)
          resolve()
        }
        const timer = setTimeout(done, ms)
        set.add(done)
        signal?.addEventListener('abort', done, {once: true})
      }),
    close: async () => {
      sub?.disconnect()
    },
  }
}
