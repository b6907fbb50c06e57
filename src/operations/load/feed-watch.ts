import {Redis} from 'ioredis'

import {EVENTS_CHANNEL, type FeedEntry, parseFeed} from '../../../services/shared/events-feed.js'

/**
 * Wakes waiters when the live feed (`mm:events`) mentions their aggregate, so a load run does not
 * hammer the API with polls: a waiter still confirms through the API, and polls slowly as a
 * fallback for a missed pub/sub message.
 */
export interface FeedWatch {
  /** Resolves on the next feed entry about `id` (that `match` accepts, when given), or after `ms`, whichever comes first. */
  nudge(id: string, ms: number, signal?: AbortSignal, match?: (entry: FeedEntry) => boolean): Promise<void>
  /** False when the feed could not be subscribed to: waiters then only time out (plain polling). */
  live: boolean
  close(): Promise<void>
}

export const createFeedWatch = async (redisUrl: string | undefined): Promise<FeedWatch> => {
  const waiters = new Map<string, Set<(entry: FeedEntry) => void>>()
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
          if (set) for (const wake of set) wake(entry)
        }
      })
    } catch {
      sub.disconnect()
      sub = undefined // no feed: plain polling
    }
  }
  return {
    live: sub !== undefined,
    nudge: (id, ms, signal, match) =>
      new Promise<void>((resolve) => {
        const set = waiters.get(id) ?? new Set()
        waiters.set(id, set)
        const onEntry = (entry: FeedEntry) => {
          if (!match || match(entry)) done()
        }
        const done = () => {
          clearTimeout(timer)
          set.delete(onEntry)
          if (set.size === 0) waiters.delete(id)
          signal?.removeEventListener('abort', done)
          resolve()
        }
        const timer = setTimeout(done, ms)
        set.add(onEntry)
        signal?.addEventListener('abort', done, {once: true})
      }),
    close: async () => {
      sub?.disconnect()
    },
  }
}
