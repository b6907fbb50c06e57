import {sleep} from '../../lib/proc.js'

/**
 * Open-model pacing (as k6's constant-arrival-rate): arrival i is due at start + i / rate,
 * whatever happened to earlier ones; `behindMs` says how far the generator lags its schedule.
 */
export interface Pacer {
  /** Waits until the next arrival is due; returns its index, or undefined when done or aborted. */
  next(): Promise<number | undefined>
  behindMs(): number
}

export const createPacer = (opts: {rate: number; total?: number; durationMs?: number; signal: AbortSignal; now?: () => number}): Pacer => {
  const now = opts.now ?? Date.now
  const start = now()
  let issued = 0
  let lag = 0
  return {
    async next() {
      if (opts.signal.aborted) return undefined
      if (opts.total !== undefined && issued >= opts.total) return undefined
      // Take the arrival's index before waiting: concurrent callers never share or exceed one.
      const i = issued
      const due = opts.rate > 0 ? start + (i * 1000) / opts.rate : now()
      if (opts.durationMs !== undefined && due - start >= opts.durationMs) return undefined
      issued++
      const wait = due - now()
      if (wait > 0) await sleep(wait, opts.signal)
      lag = Math.max(0, now() - due)
      if (opts.signal.aborted) return undefined
      return i
    },
    behindMs: () => lag,
  }
}

/** A small deterministic PRNG (mulberry32), so a seeded load run is reproducible. */
export const seededRandom = (seed: number): (() => number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}
