import type {Redis} from 'ioredis'

import type {Logger} from '../shared/logger.js'
import type {PlatformApi} from '../shared/runner.js'
import type {Namespace} from '../shared/naming.js'
import {HttpError, unprocessable} from '../shared/errors.js'
import {isUuid, type MergedLine} from './domain.js'

/**
 * Order's view of the other components: only their public HTTP API (a component never reads
 * another's schema) and the customer cache that customer itself maintains in Redis.
 */
export interface Lookups {
  /** Throws 422 when the customer does not exist. */
  assertCustomer(customerId: string): Promise<void>
  /** Current unit prices by product id; throws 422 naming `items[i].product_id` for the first unknown product. */
  prices(lines: MergedLine[]): Promise<Map<string, number>>
}

export interface LookupDeps {
  redis: Redis
  ns: Namespace
  api: PlatformApi
  logger: Logger
  timeoutMs?: number
}

const unavailable = (what: string, cause: string) => new HttpError(503, 'dependency_unavailable', `${what} could not be checked: ${cause}`)

export const createLookups = (deps: LookupDeps): Lookups => {
  const timeoutMs = deps.timeoutMs ?? 5000

  /** GET a resource of another component: its JSON, or undefined when it does not exist (404, or 400 for a malformed id). */
  const getResource = async (what: string, path: string): Promise<Record<string, unknown> | undefined> => {
    let res: {status: number; body: unknown}
    try {
      res = await deps.api.get(path, timeoutMs)
    } catch (error) {
      throw unavailable(what, (error as Error).message)
    }
    if (res.status === 404 || res.status === 400) return undefined
    if (res.status !== 200) throw unavailable(what, `GET ${path} answered ${res.status}`)
    return res.body as Record<string, unknown>
  }

  const cachedCustomer = async (customerId: string): Promise<boolean> => {
    try {
      return (await deps.redis.exists(deps.ns(`customer:${customerId}`))) === 1
    } catch (error) {
      deps.logger.warn('order.customer_cache_error', {error: (error as Error).message})
      return false
    }
  }

  return {
    async assertCustomer(customerId) {
      if (await cachedCustomer(customerId)) return
      const customer = await getResource(`customer ${customerId}`, `/customers/${encodeURIComponent(customerId)}`)
      if (!customer) throw unprocessable(`customer_id: customer ${customerId} not found`, {field: 'customer_id', customer_id: customerId})
    },

    async prices(lines) {
      // One request per 100 lines (the product API's ?ids= limit), not one per line.
      const found = new Map<string, Record<string, unknown>>()
      const wanted = [...new Set(lines.map((l) => l.product_id.toLowerCase()).filter(isUuid))] // anything else is unknown
      for (let i = 0; i < wanted.length; i += 100) {
        const ids = wanted.slice(i, i + 100)
        const page = await getResource('products', `/products?ids=${ids.map(encodeURIComponent).join(',')}`)
        const items = (page?.items ?? []) as Record<string, unknown>[]
        for (const p of items) if (typeof p.id === 'string') found.set(p.id.toLowerCase(), p)
      }
      const prices = new Map<string, number>()
      const unknown: MergedLine[] = []
      for (const line of lines) {
        const product = found.get(line.product_id.toLowerCase())
        if (!product) {
          unknown.push(line)
          continue
        }
        const price = product.price_cents
        if (typeof price !== 'number' || !Number.isSafeInteger(price) || price < 0)
          throw unavailable(`product ${line.product_id}`, 'its price_cents is not a non-negative integer')
        prices.set(line.product_id, price)
      }
      if (unknown.length > 0) {
        const first = unknown[0]!
        throw unprocessable(`items[${first.index}].product_id: product ${first.product_id} not found`, {
          field: `items[${first.index}].product_id`,
          product_id: first.product_id,
          unknown: unknown.map((l) => ({field: `items[${l.index}].product_id`, product_id: l.product_id})),
        })
      }
      return prices
    },
  }
}
