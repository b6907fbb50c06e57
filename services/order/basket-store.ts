import {randomUUID} from 'node:crypto'

import type {Redis} from 'ioredis'

import type {Namespace} from '../shared/naming.js'
import type {OrderLineInput} from './domain.js'

/** Baskets live 24 h after their last write (PLATFORM.md §3.3). */
export const BASKET_TTL_SECONDS = 86_400
/** A checkout holds its basket's lock at most this long (released as soon as it finishes). */
const CHECKOUT_LOCK_SECONDS = 30

export interface BasketStore {
  /** Adds `quantity` to the product's line; returns the line's new quantity. */
  add(customerId: string, productId: string, quantity: number): Promise<number>
  /** Removes the product's line; false when it was not there. */
  remove(customerId: string, productId: string): Promise<boolean>
  /** Lines sorted by product id (empty when the basket does not exist or expired). */
  get(customerId: string): Promise<OrderLineInput[]>
  /** Seconds to live, -2 when the basket does not exist. */
  ttl(customerId: string): Promise<number>
  /** Takes the basket's checkout lock; returns a release function, or undefined when another checkout holds it. */
  lockCheckout(customerId: string): Promise<(() => Promise<void>) | undefined>
  /** Removes exactly the ordered quantities (items added meanwhile stay); returns the lines left. */
  removeOrdered(customerId: string, lines: OrderLineInput[]): Promise<number>
}

// Subtracts each ordered quantity atomically; lines that reach 0 go. TTL refreshed if anything is left.
const REMOVE_ORDERED = `
for i = 1, #ARGV - 1, 2 do
  if redis.call('HINCRBY', KEYS[1], ARGV[i], -tonumber(ARGV[i + 1])) <= 0 then redis.call('HDEL', KEYS[1], ARGV[i]) end
end
local left = redis.call('HLEN', KEYS[1])
if left > 0 then redis.call('EXPIRE', KEYS[1], ARGV[#ARGV]) end
return left`

const RELEASE_LOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`

/** A Redis hash `basket:<customer_id>` of product_id → quantity, TTL refreshed on every write. */
export const createBasketStore = (redis: Redis, ns: Namespace): BasketStore => {
  const keyOf = (customerId: string) => ns(`basket:${customerId}`)

  const exec = async (multi: ReturnType<Redis['multi']>): Promise<unknown[]> => {
    const results = await multi.exec()
    if (!results) throw new Error('basket transaction aborted')
    return results.map(([error, value]) => {
      if (error) throw error
      return value
    })
  }

  return {
    async add(customerId, productId, quantity) {
      const key = keyOf(customerId)
      const [total] = await exec(redis.multi().hincrby(key, productId, quantity).expire(key, BASKET_TTL_SECONDS))
      return Number(total)
    },

    async remove(customerId, productId) {
      const key = keyOf(customerId)
      // EXPIRE refreshes the TTL of what is left (a no-op when the basket became empty and vanished).
      const [removed] = await exec(redis.multi().hdel(key, productId).expire(key, BASKET_TTL_SECONDS))
      return Number(removed) === 1
    },

    async get(customerId) {
      const hash = await redis.hgetall(keyOf(customerId))
      return Object.entries(hash)
        .map(([product_id, quantity]) => ({product_id, quantity: Number(quantity)}))
        .sort((a, b) => (a.product_id < b.product_id ? -1 : a.product_id > b.product_id ? 1 : 0))
    },

    ttl: (customerId) => redis.ttl(keyOf(customerId)),

    async lockCheckout(customerId) {
      const lock = ns(`basket-checkout:${customerId}`)
      const token = randomUUID()
      if ((await redis.set(lock, token, 'EX', CHECKOUT_LOCK_SECONDS, 'NX')) !== 'OK') return undefined
      return async () => {
        await redis.eval(RELEASE_LOCK, 1, lock, token)
      }
    },

    async removeOrdered(customerId, lines) {
      const args = lines.flatMap((l) => [l.product_id, String(l.quantity)])
      return Number(await redis.eval(REMOVE_ORDERED, 1, keyOf(customerId), ...args, String(BASKET_TTL_SECONDS)))
    },
  }
}
