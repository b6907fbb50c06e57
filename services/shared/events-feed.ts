import type {Redis} from 'ioredis'

export const EVENTS_CHANNEL = 'mm:events'

export interface FeedEntry {
  at: string
  runner: string
  type: string
  id?: string
  outcome: 'handled' | 'dead-lettered' | 'published'
  detail?: string
}

/** One line per handled event on Redis pub/sub `mm:events`, for the dashboard's live feed. Fire and forget. */
export const createEventFeed = (redis: Redis, runner: string) => (entry: Omit<FeedEntry, 'at' | 'runner'>): void => {
  redis.publish(EVENTS_CHANNEL, JSON.stringify({at: new Date().toISOString(), runner, ...entry})).catch(() => {})
}
