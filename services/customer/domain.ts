import type {CustomerData} from '../shared/events.js'

/** The database schema of the component (PLATFORM.md §3: one schema per component). */
export const SCHEMA = 'customer'

/** Redis key of one customer's cached JSON (before namespacing), and its TTL. */
export const cacheKey = (id: string): string => `customer:${id}`
export const CACHE_TTL_SECONDS = 604_800

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
export const isUuid = (value: unknown): value is string => typeof value === 'string' && UUID_RE.test(value)

export interface CustomerRow {
  id: string
  name: string
  email: string
  address: string | null
  orders_count: number
  version: number
  created_at: Date
  updated_at: Date
}

/** The API representation, the cached JSON and the event data are one shape: CustomerData. */
export const toCustomer = (row: CustomerRow): CustomerData => ({
  id: row.id,
  name: row.name,
  email: row.email,
  address: row.address,
  orders_count: row.orders_count,
  created_at: row.created_at.toISOString(),
  updated_at: row.updated_at.toISOString(),
})

export interface NewCustomer {
  name: string
  email: string
  address?: string | null
}

export type CustomerChanges = Partial<NewCustomer>

/** Surrounding blanks are never meaningful in these fields. */
export const normalize = <T extends CustomerChanges>(input: T): T => {
  const out = {...input}
  if (typeof out.name === 'string') out.name = out.name.trim()
  if (typeof out.email === 'string') out.email = out.email.trim()
  if (typeof out.address === 'string') out.address = out.address.trim() === '' ? null : out.address.trim()
  return out
}

// JSON schemas for fastify's validation: a bad field is a 400 naming the field.
const name = {type: 'string', minLength: 1, maxLength: 200, pattern: '\\S'} as const
const email = {type: 'string', format: 'email', maxLength: 320} as const
const address = {type: ['string', 'null'], maxLength: 1000} as const

export const createBodySchema = {
  type: 'object',
  required: ['name', 'email'],
  additionalProperties: false,
  properties: {name, email, address},
} as const

export const updateBodySchema = {
  type: 'object',
  minProperties: 1,
  additionalProperties: false,
  properties: {name, email, address},
} as const

export {DEFAULT_LIMIT, idParamsSchema, listQuerySchema, MAX_LIMIT} from '../shared/http-schemas.js'
