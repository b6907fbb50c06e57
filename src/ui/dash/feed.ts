import type {FeedEntry} from '../../../services/shared/events-feed.js'

/** A line of the live feed: one entry, or `count` alike entries that arrived together. */
export interface FeedLine extends FeedEntry {
  count: number
}

/** More entries than this in one refresh (half a second) are grouped: nobody reads 1,000 lines a second. */
export const GROUP_ABOVE = 6

/**
 * The lines for one refresh's entries (oldest first in, newest first out). When they come faster
 * than a person reads, entries of the same runner, type and outcome become one line with their
 * count, the newest one's id and detail, and its time; dead letters are never grouped.
 */
export const feedLines = (batch: readonly FeedEntry[]): FeedLine[] => {
  const newestFirst = [...batch].reverse()
  if (batch.length <= GROUP_ABOVE) return newestFirst.map((e) => ({...e, count: 1}))
  const lines: FeedLine[] = []
  const byKey = new Map<string, FeedLine>()
  for (const e of newestFirst) {
    if (e.outcome === 'dead-lettered') {
      lines.push({...e, count: 1})
      continue
    }
    const key = `${e.runner}\u0000${e.type}\u0000${e.outcome}`
    const line = byKey.get(key)
    if (line) line.count++
    else {
      const first = {...e, count: 1}
      byKey.set(key, first)
      lines.push(first)
    }
  }
  return lines
}

/** Whether an entry matches the `/` filter: every word, case-insensitive, in its runner, type, outcome, id or detail. */
export const matchesFilter = (e: FeedEntry, filter: string): boolean => {
  const words = filter.toLowerCase().split(/\s+/).filter(Boolean)
  if (words.length === 0) return true
  const text = `${e.runner} ${e.type} ${e.outcome} ${e.id ?? ''} ${e.detail ?? ''}`.toLowerCase()
  return words.every((w) => text.includes(w))
}
