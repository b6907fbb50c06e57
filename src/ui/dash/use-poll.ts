import {useEffect, useRef, useState} from 'react'

export interface Polled<T> {
  value?: T
  error?: string
  /** When the last poll finished. */
  at?: number
  /** Milliseconds the last poll took. */
  tookMs?: number
}

/**
 * Polls `load` every `intervalMs`, never overlapping: the next poll is scheduled only after the
 * previous one finished. Stops on unmount.
 */
export const usePoll = <T>(load: (signal: AbortSignal) => Promise<T>, intervalMs: number): Polled<T> => {
  const [state, setState] = useState<Polled<T>>({})
  const loadRef = useRef(load)
  loadRef.current = load
  useEffect(() => {
    const controller = new AbortController()
    let timer: NodeJS.Timeout | undefined
    const tick = async () => {
      const started = Date.now()
      try {
        const value = await loadRef.current(controller.signal)
        if (!controller.signal.aborted) setState({value, at: Date.now(), tookMs: Date.now() - started})
      } catch (error) {
        // Keep `at` of the last good poll: rates and "updated" refer to real data.
        if (!controller.signal.aborted) setState((s) => ({...s, error: (error as Error).message}))
      }
      if (!controller.signal.aborted) timer = setTimeout(() => void tick(), Math.max(0, intervalMs - (Date.now() - started)))
    }
    void tick()
    return () => {
      controller.abort()
      clearTimeout(timer)
    }
  }, [intervalMs])
  return state
}
