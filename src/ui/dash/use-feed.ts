import {useEffect, useState} from 'react'

import type {FeedEntry} from '../../../services/shared/events-feed.js'

export interface FeedState {
  entries: FeedEntry[]
  connected: boolean
  error?: string
}

/** The live event feed: subscribes through `subscribe`, keeps the newest `keep` entries. */
export const useFeed = (
  subscribe: (onEntry: (e: FeedEntry) => void, onState: (connected: boolean, error?: string) => void) => () => void,
  keep = 50,
): FeedState => {
  const [state, setState] = useState<FeedState>({entries: [], connected: false})
  useEffect(() => {
    let pending: FeedEntry[] = []
    // Batch renders: at most 2 a second however busy the feed is.
    const flush = setInterval(() => {
      if (pending.length === 0) return
      const batch = pending
      pending = []
      setState((s) => ({...s, entries: [...batch.reverse(), ...s.entries].slice(0, keep)}))
    }, 500)
    const unsubscribe = subscribe(
      (e) => {
        pending.push(e)
        if (pending.length > keep) pending = pending.slice(-keep)
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
