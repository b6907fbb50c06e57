import type {ProductData} from '../shared/events.js'

/** The database schema of the component (PLATFORM.md §3: one schema per component). */
export const SCHEMA = 'product'

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
export const isUuid = (value: unknown): value is string => typeof value === 'string' && UUID_RE.test(value)

/** Most ids in one `GET /products?ids=` request. */
export const MAX_IDS = 100

/** Largest value of a PostgreSQL integer column: prices (minor units) and stock stay below it. */
export const MAX_INT = 2_147_483_647

export interface ProductRow {
  id: string
  sku: string
  name: string
  price_cents: number
  stock: number
  version: number
  created_at: Date
  updated_at: Date
}

/** The API representation and the event data are one shape: ProductData. */
export const toProduct = (row: ProductRow): ProductData => ({
  id: row.id,
  sku: row.sku,
  name: row.name,
  price_cents: row.price_cents,
  stock: row.stock,
  created_at: row.created_at.toISOString(),
  updated_at: row.updated_at.toISOString(),
})

export interface NewProduct {
  sku: string
  name: string
  price_cents: number
  stock: number
}

export type ProductChanges = Partial<Pick<NewProduct, 'name' | 'price_cents' | 'stock'>>

// JSON schemas for fastify's validation: a bad field is a 400 naming the field.
const sku = {type: 'string', minLength: 1, maxLength: 100, pattern: '^\\S(.*\\S)?$'} as const
const name = {type: 'string', minLength: 1, maxLength: 200, pattern: '\\S'} as const
const cents = {type: 'integer', minimum: 0, maximum: MAX_INT} as const
const stock = {type: 'integer', minimum: 0, maximum: MAX_INT} as const

export const createBodySchema = {
  type: 'object',
  required: ['sku', 'name', 'price_cents', 'stock'],
  additionalProperties: false,
  properties: {sku, name, price_cents: cents, stock},
} as const

export const patchBodySchema = {
  type: 'object',
  minProperties: 1,
  additionalProperties: false,
  properties: {name, price_cents: cents, stock},
} as const

export {DEFAULT_LIMIT, idParamsSchema, listQuerySchema, MAX_LIMIT} from '../shared/http-schemas.js'
