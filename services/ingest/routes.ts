import type {FastifyInstance} from 'fastify'
import type pg from 'pg'

import {notFound} from '../shared/errors.js'
import {INT64_MAX} from './decimal.js'
import type {FlushResult} from './flush.js'
import {getPulse, listPulses} from './repository.js'
import type {IngestStatus} from './schedule.js'

export interface IngestRouteDeps {
  pool: pg.Pool
  flush: () => Promise<FlushResult>
  status: (top: number) => Promise<IngestStatus>
}

/**
 * GET /pulses?page=&limit= (page ≥ 1, 1 ≤ limit ≤ 1000; defaults 1 and 50), GET /pulses/:id,
 * POST /ingest/flush (what `mm flush` calls), GET /ingest/status?top= (for the dashboard).
 * Amounts are exact decimal strings ("0.3"), never floats.
 */
export const ingestRoutes = (deps: IngestRouteDeps) => async (app: FastifyInstance) => {
  app.get<{Querystring: {page: number; limit: number}}>(
    '/pulses',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            page: {type: 'integer', minimum: 1, maximum: 1_000_000_000, default: 1},
            limit: {type: 'integer', minimum: 1, maximum: 1000, default: 50},
          },
        },
      },
    },
    async (req) => {
      const {page, limit} = req.query
      const {items, total} = await listPulses(deps.pool, page, limit)
      return {items, page, limit, total, pages: Math.ceil(total / limit)}
    },
  )

  app.get<{Params: {id: string}}>(
    '/pulses/:id',
    {schema: {params: {type: 'object', required: ['id'], properties: {id: {type: 'string', pattern: '^[0-9]{1,19}$'}}}}},
    async (req) => {
      const row = BigInt(req.params.id) > INT64_MAX ? undefined : await getPulse(deps.pool, req.params.id)
      if (!row) throw notFound('pulse', req.params.id)
      return row
    },
  )

  app.post('/ingest/flush', async () => deps.flush())

  app.get<{Querystring: {top: number}}>(
    '/ingest/status',
    {schema: {querystring: {type: 'object', additionalProperties: false, properties: {top: {type: 'integer', minimum: 0, maximum: 100, default: 0}}}}},
    async (req) => deps.status(req.query.top),
  )
}
