import {trace} from '@opentelemetry/api'
import type {FastifyInstance} from 'fastify'

import type {OrderStatus} from '../shared/events.js'
import {ATTR} from '../shared/tracing.js'
import {MAX_ID_LENGTH, MAX_LINES, MAX_QUANTITY, type CreateOrderInput} from './domain.js'
import type {OrderService} from './service.js'

const id = {type: 'string', minLength: 1, maxLength: MAX_ID_LENGTH} as const

export const lineSchema = {
  type: 'object',
  required: ['product_id', 'quantity'],
  additionalProperties: false,
  properties: {product_id: id, quantity: {type: 'integer', minimum: 1, maximum: MAX_QUANTITY}},
} as const

const createBody = {
  type: 'object',
  required: ['customer_id', 'items'],
  additionalProperties: false,
  properties: {customer_id: id, items: {type: 'array', minItems: 1, maxItems: MAX_LINES, items: lineSchema}},
} as const

export const idempotencyHeaders = {
  type: 'object',
  properties: {'idempotency-key': {type: 'string', minLength: 1, maxLength: 255}},
} as const

const idParams = {type: 'object', required: ['id'], properties: {id}} as const

/** HTTP API of orders (PLATFORM.md §3.3). Errors are HttpErrors, rendered by the gateway. */
export const orderRoutes = (app: FastifyInstance, service: OrderService): void => {
  app.post<{Body: CreateOrderInput; Headers: {'idempotency-key'?: string}}>(
    '/orders',
    {schema: {body: createBody, headers: idempotencyHeaders}},
    async (req, reply) => {
      const key = req.headers['idempotency-key']
      const {order, replayed} = await service.create(req.body, key === undefined ? undefined : {key})
      if (replayed) void reply.header('idempotent-replayed', 'true')
      // The request's span names the order it created: mm trace <order-id> finds it even if nothing was published yet.
      trace.getActiveSpan()?.setAttribute(ATTR.aggregateId, order.id)
      return reply.status(201).header('location', `/orders/${order.id}`).send(order)
    },
  )

  app.get<{Querystring: {customer_id?: string; status?: OrderStatus; limit: number}}>(
    '/orders',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            customer_id: id,
            status: {type: 'string', enum: ['PENDING', 'RESERVED', 'PAID', 'CANCELED']},
            limit: {type: 'integer', minimum: 1, maximum: 100, default: 20},
          },
        },
      },
    },
    async (req) => {
      const orders = await service.list({customerId: req.query.customer_id, status: req.query.status, limit: req.query.limit})
      return {items: orders, limit: req.query.limit}
    },
  )

  app.get<{Params: {id: string}}>('/orders/:id', {schema: {params: idParams}}, async (req) => service.get(req.params.id))

  app.post<{Params: {id: string}}>('/orders/:id/pay', {schema: {params: idParams}}, async (req) => service.transition(req.params.id, 'pay'))

  app.post<{Params: {id: string}; Body: {reason?: string} | undefined}>(
    '/orders/:id/cancel',
    {
      schema: {
        params: idParams,
        // The body is optional: POST /orders/:id/cancel alone cancels without a reason.
        body: {type: ['object', 'null'], additionalProperties: false, properties: {reason: {type: 'string', minLength: 1, maxLength: 500}}},
      },
    },
    async (req) => service.transition(req.params.id, 'cancel', req.body?.reason),
  )
}
