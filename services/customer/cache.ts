import type {Redis} from 'ioredis'

import type {Namespace} from '../shared/naming.js'
import type {Logger} from '../shared/logger.js'
import type {CustomerData} from '../shared/events.js'
import {CACHE_TTL_SECONDS, cacheKey} from './domain.js'

/** The Redis cache of one customer's JSON: `customer:<id>`, TTL 7 days (PLATFORM.md §3.1). */
export interface CustomerCache {
  /** The cached customer, or undefined on a miss (or when Redis cannot answer). */
  get(id: string): Promise<CustomerData | undefined>
  /** Write-through after a create; fill after a miss. */
  set(customer: CustomerData): Promise<void>
  /** Fill after a miss only if nothing newer was written meanwhile. */
  fill(customer: CustomerData): Promise<void>
  /** Invalidation after every change; throws when Redis cannot confirm it. */
  drop(...ids: string[]): Promise<void>
}

export const createCustomerCache = (redis: Redis, ns: Namespace, logger: Logger): CustomerCache => {
  const key = (id: string) => ns(cacheKey(id))
  return {
    async get(id) {
      try {
        const json = await redis.get(key(id))
        return json ? (JSON.parse(json) as CustomerData) : undefined
      } catch (error) {
        logger.warn('customer.cache_read_failed', {id, error: (error as Error).message})
        return undefined
      }
    },
    async set(customer) {
      try {
        await redis.set(key(customer.id), JSON.stringify(customer), 'EX', CACHE_TTL_SECONDS)
      } catch (error) {
        // The next read fills it; the database is the source of truth.
        logger.warn('customer.cache_write_failed', {id: customer.id, error: (error as Error).message})
      }
    },
    async fill(customer) {
      try {
        await redis.set(key(customer.id), JSON.stringify(customer), 'EX', CACHE_TTL_SECONDS, 'NX')
      } catch (error) {
        logger.warn('customer.cache_write_failed', {id: customer.id, error: (error as Error).message})
      }
    },
    async drop(...ids) {
      if (ids.length > 0) await redis.del(...ids.map(key))
    },
  }
}
