import {sleep as realSleep} from '../../lib/proc.js'

/**
 * A ceiling of `rate` messages per second for replays: message i waits until one interval after
 * the previous one. Unlike an open-model load pacer it never bursts to catch up after a slow
 * stretch (a replay must not hit a recovering consumer harder than asked).
 */
export interface RateLimiter {
  /** Resolves when the next message may go (at once without a rate, or when `signal` aborts). */
  wait(signal?: AbortSignal): Promise<void>
  /** How many messages fit in about one second (the size of a replay transaction/confirm batch). */
  readonly perSecond: number
}

export interface Clock {
  now(): number
  sleep(ms: number, signal?: AbortSignal): Promise<void>
}

const systemClock: Clock = {now: () => Date.now(), sleep: realSleep}

export const createRateLimiter = (rate: number | undefined, clock: Clock = systemClock): RateLimiter => {
  if (rate === undefined || !Number.isFinite(rate) || rate <= 0) return {wait: async () => {}, perSecond: Number.POSITIVE_INFINITY}
  const interval = 1000 / rate
  let next: number | undefined
  return {
    perSecond: rate,
    async wait(signal) {
      const now = clock.now()
      const due = next === undefined ? now : Math.max(next, now)
      next = due + interval
      if (due > now) await clock.sleep(due - now, signal)
    },
  }
}

/** Messages per replay transaction (Kafka) or per confirm batch (RabbitMQ): about a second's worth, 1 to 100. */
export const batchSizeFor = (limiter: RateLimiter, max = 100): number => Math.max(1, Math.min(max, Math.floor(limiter.perSecond)))
