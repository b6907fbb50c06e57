/** JSON schemas shared by the components' routes (validated by the gateway's Fastify). */
export const idParamsSchema = {
  type: 'object',
  required: ['id'],
  properties: {id: {type: 'string'}},
} as const

export const DEFAULT_LIMIT = 50
export const MAX_LIMIT = 500

/** `?limit=&offset=` of the CRUD lists (`{items, limit, offset, total}`). */
export const listQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: {type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT},
    offset: {type: 'integer', minimum: 0, default: 0},
  },
} as const
