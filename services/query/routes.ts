import type {FastifyInstance} from 'fastify'
import type {Filter} from 'mongodb'

import {notFound} from '../shared/errors.js'
import {ORDER_STATUSES} from './schemas.js'
import {customerToApi, type OrderDoc, orderToApi, productToApi, type Views} from './views.js'

export const ORDERS_LIMIT = {default: 20, max: 100}
export const LIST_LIMIT = {default: 100, max: 1000}

const limit = (l: {default: number; max: number}) => ({type: 'integer', minimum: 1, maximum: l.max, default: l.default})

interface OrdersQuery {
  customer_id?: string
  status?: (typeof ORDER_STATUSES)[number]
  limit: number
}

/**
 * The read API (PLATFORM.md §3.4). Lists answer `{items: [...]}`; documents never carry Mongo's
 * `_id` nor the internal versions. Invalid query parameters → 400 naming the parameter.
 */
export const queryRoutes = (v: Views) => async (app: FastifyInstance) => {
  app.get<{Params: {id: string}}>(
    '/q/orders/:id',
    {schema: {params: {type: 'object', properties: {id: {type: 'string', minLength: 1, maxLength: 200}}, required: ['id']}}},
    async (req) => {
      const order = await v.orders.findOne({_id: req.params.id})
      if (!order) throw notFound('order', req.params.id)
      return orderToApi(order)
    },
  )

  app.get<{Querystring: OrdersQuery}>(
    '/q/orders',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            customer_id: {type: 'string', minLength: 1, maxLength: 200},
            status: {type: 'string', enum: [...ORDER_STATUSES]},
            limit: limit(ORDERS_LIMIT),
          },
        },
      },
    },
    async (req) => {
      const filter: Filter<OrderDoc> = {}
      if (req.query.customer_id) filter['customer.id'] = req.query.customer_id
      if (req.query.status) filter.status = req.query.status
      const docs = await v.orders.find(filter).sort({created_at: -1, _id: -1}).limit(req.query.limit).toArray()
      return {items: docs.map(orderToApi)}
    },
  )

  const listSchema = {schema: {querystring: {type: 'object', additionalProperties: false, properties: {limit: limit(LIST_LIMIT)}}}}

  app.get<{Querystring: {limit: number}}>('/q/products', listSchema, async (req) => {
    const docs = await v.products.find({}).sort({sku: 1, _id: 1}).limit(req.query.limit).toArray()
    return {items: docs.map(productToApi)}
  })

  app.get<{Querystring: {limit: number}}>('/q/customers', listSchema, async (req) => {
    const docs = await v.customers.find({}).sort({email: 1, _id: 1}).limit(req.query.limit).toArray()
    return {items: docs.map(customerToApi)}
  })
}
