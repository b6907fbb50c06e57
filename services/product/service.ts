import type pg from 'pg'

import type {Namespace} from '../shared/naming.js'
import {withTransaction} from '../shared/db.js'
import {badRequest, notFound} from '../shared/errors.js'
import type {ProductData} from '../shared/events.js'
import {appendOutbox} from '../shared/outbox.js'
import {isUuid, MAX_IDS, type NewProduct, type ProductChanges, SCHEMA, toProduct} from './domain.js'
import {productEvent} from './events.js'
import {findProduct, findProducts, insertProduct, listProducts, updateProduct} from './repository.js'

/** The HTTP use cases of PLATFORM.md §3.2; every change and its event commit together. */
export const createProductService = ({pool, ns}: {pool: pg.Pool; ns: Namespace}) => ({
  async create(input: NewProduct): Promise<ProductData> {
    const p = {...input, sku: input.sku.trim(), name: input.name.trim()}
    const row = await withTransaction(pool, async (client) => {
      const inserted = await insertProduct(client, p)
      await appendOutbox(client, SCHEMA, [productEvent(ns, 'product.created', inserted)])
      return inserted
    })
    return toProduct(row)
  },

  async get(id: string): Promise<ProductData> {
    const row = isUuid(id) ? await findProduct(pool, id) : undefined
    if (!row) throw notFound('product', id)
    return toProduct(row)
  },

  /** The products among `ids` that exist, in the order asked (unknown and malformed ids are left out). */
  async getMany(ids: string[]) {
    const wanted = [...new Set(ids.map((id) => id.trim().toLowerCase()))].filter(isUuid)
    if (ids.length > MAX_IDS) throw badRequest(`ids: at most ${MAX_IDS} ids per request`, {field: 'ids'})
    const rows = new Map((await findProducts(pool, wanted)).map((r) => [r.id, r]))
    const items = wanted.flatMap((id) => (rows.has(id) ? [toProduct(rows.get(id)!)] : []))
    return {items, limit: MAX_IDS, offset: 0, total: items.length}
  },

  async list(limit: number, offset: number) {
    const {rows, total} = await listProducts(pool, limit, offset)
    return {items: rows.map(toProduct), limit, offset, total}
  },

  async update(id: string, input: ProductChanges): Promise<ProductData> {
    if (!isUuid(id)) throw notFound('product', id)
    const changes = {...input, ...(input.name === undefined ? {} : {name: input.name.trim()})}
    const row = await withTransaction(pool, async (client) => {
      const current = await findProduct(client, id, true)
      if (!current) throw notFound('product', id)
      const changed = (Object.keys(changes) as (keyof ProductChanges)[]).some((k) => changes[k] !== undefined && changes[k] !== current[k])
      if (!changed) return current
      try {
        const updated = (await updateProduct(client, id, changes))!
        await appendOutbox(client, SCHEMA, [productEvent(ns, 'product.updated', updated)])
        return updated
      } catch (error) {
        if ((error as {code?: string}).code === '23514') throw badRequest('stock must not be negative', {field: 'stock'})
        throw error
      }
    })
    return toProduct(row)
  },
})

export type ProductService = ReturnType<typeof createProductService>
