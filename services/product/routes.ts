import type {FastifyInstance} from 'fastify'

import {createBodySchema, idParamsSchema, listQuerySchema, MAX_IDS, type NewProduct, patchBodySchema, type ProductChanges} from './domain.js'
import type {ProductService} from './service.js'

/** HTTP surface of PLATFORM.md §3.2; errors are HttpErrors rendered by the gateway. */
export const productRoutes = (service: ProductService) => async (app: FastifyInstance) => {
  app.post<{Body: NewProduct}>('/products', {schema: {body: createBodySchema}}, async (req, reply) => {
    const product = await service.create(req.body)
    return reply.status(201).header('location', `/products/${product.id}`).send(product)
  })

  // `?ids=a,b,c` (at most MAX_IDS): those products in one request, e.g. every line of an order.
  const listSchema = {...listQuerySchema, properties: {...listQuerySchema.properties, ids: {type: 'string', maxLength: MAX_IDS * 37}}}
  app.get<{Querystring: {limit: number; offset: number; ids?: string}}>('/products', {schema: {querystring: listSchema}}, async (req) =>
    req.query.ids === undefined ? service.list(req.query.limit, req.query.offset) : service.getMany(req.query.ids.split(',')),
  )

  app.get<{Params: {id: string}}>('/products/:id', {schema: {params: idParamsSchema}}, async (req) => service.get(req.params.id))

  app.patch<{Params: {id: string}; Body: ProductChanges}>('/products/:id', {schema: {params: idParamsSchema, body: patchBodySchema}}, async (req) =>
    service.update(req.params.id, req.body),
  )
}
