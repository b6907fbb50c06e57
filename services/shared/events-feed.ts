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

/**
 * The live feed of handled events on Redis pub/sub `mm:events`, for the dashboard and `mm load`.
 * Fire and forget; the entries of one tick (a consumed batch) go out as one PUBLISH whose message
 * is a JSON array of entries (a single entry is sent as a plain object). Readers use parseFeed.
 */
export const createEventFeed = (redis: Redis, runner: string) => {
  let pending: FeedEntry[] = []
  const send = () => {
    const entries = pending
    pending = []
    redis.publish(EVENTS_CHANNEL, JSON.stringify(entries.length === 1 ? entries[0] : entries)).catch(() => {})
  }
  return (entry: Omit<FeedEntry, 'at' | 'runner'>): void => {
    if (pending.length === 0) setImmediate(send)
    pending.push({at: new Date().toISOString(), runner, ...entry})
  }
}

/** The entries of one `mm:events` message (an entry or an array of them); none when it is not ours. */
export const parseFeed = (text: string): FeedEntry[] => {
  try {
    const parsed = JSON.parse(text) as FeedEntry | FeedEntry[]
    const list = Array.isArray(parsed) ? parsed : [parsed]
    return list.filter((e) => typeof e === 'object' && e !== null && typeof e.type === 'string')
  } catch {
    return []
  }
}
