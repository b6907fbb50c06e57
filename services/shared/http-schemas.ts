/** JSON schemas shared by the components' routes (validated by the gateway's Fastify). */
export const idParamsSchema = {
  type: 'object',
  required: ['id'],
  properties: {id: {type: 'string'}},
} as const

export const DEFAULT_LIMIT = 50
export const MAX_LIMIT = 500
/**
 * Past this an offset is a 400 naming the field: JSON numbers lose integer precision beyond 2^53,
 * and PostgreSQL's OFFSET stops at 2^63 (a bigger one used to reach it and answer 500).
 */
export const MAX_OFFSET = Number.MAX_SAFE_INTEGER

/** `?limit=&offset=` of the CRUD lists (`{items, limit, offset, total}`). */
export const listQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: {type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT},
    offset: {type: 'integer', minimum: 0, maximum: MAX_OFFSET, default: 0},
  },
} as const
