import {useEffect, useRef, useState} from 'react'

import type {FeedEntry} from '../../../services/shared/events-feed.js'
import {type FeedLine, feedLines, matchesFilter} from './feed.js'

export interface FeedState {
  /** Newest first; alike entries of a busy refresh grouped (feed.ts). */
  entries: FeedLine[]
  connected: boolean
  error?: string
}

/**
 * The live event feed: subscribes through `subscribe`, keeps the newest `keep` lines. Only entries
 * matching `filter` (the `/` filter) are kept; changing it starts the feed over.
 */
export const useFeed = (
  subscribe: (onEntry: (e: FeedEntry) => void, onState: (connected: boolean, error?: string) => void) => () => void,
  keep = 50,
  filter = '',
): FeedState => {
  const [state, setState] = useState<FeedState>({entries: [], connected: false})
  const filterRef = useRef(filter)
  useEffect(() => {
    if (filterRef.current === filter) return
    filterRef.current = filter
    setState((s) => ({...s, entries: s.entries.filter((e) => matchesFilter(e, filter))}))
  }, [filter])
  useEffect(() => {
    let pending: FeedEntry[] = []
    // Batch renders: at most 2 a second however busy the feed is; a busy batch is grouped.
    const flush = setInterval(() => {
      if (pending.length === 0) return
      const batch = pending
      pending = []
      setState((s) => ({...s, entries: [...feedLines(batch), ...s.entries].slice(0, keep)}))
    }, 500)
    const unsubscribe = subscribe(
      (e) => {
        if (!matchesFilter(e, filterRef.current)) return
        // Enough to count what one refresh brings at thousands of events a second.
        if (pending.length < 5000) pending.push(e)
      },
      (connected, error) => setState((s) => ({...s, connected, error})),
    )
    return () => {
      clearInterval(flush)
      unsubscribe()
    }
  }, [subscribe, keep])
  return state
}
