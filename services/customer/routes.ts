import type {FastifyInstance} from 'fastify'

import {type CustomerChanges, createBodySchema, idParamsSchema, listQuerySchema, type NewCustomer, updateBodySchema} from './domain.js'
import type {CustomerService} from './service.js'

/** HTTP surface of PLATFORM.md §3.1; errors are HttpErrors rendered by the gateway. */
export const customerRoutes = (service: CustomerService) => async (app: FastifyInstance) => {
  app.post<{Body: NewCustomer}>('/customers', {schema: {body: createBodySchema}}, async (req, reply) => {
    const customer = await service.create(req.body)
    return reply.status(201).header('location', `/customers/${customer.id}`).send(customer)
  })

  app.get<{Querystring: {limit: number; offset: number}}>('/customers', {schema: {querystring: listQuerySchema}}, async (req) =>
    service.list(req.query.limit, req.query.offset),
  )

  app.get<{Params: {id: string}}>('/customers/:id', {schema: {params: idParamsSchema}}, async (req) => service.get(req.params.id))

  app.put<{Params: {id: string}; Body: CustomerChanges}>('/customers/:id', {schema: {params: idParamsSchema, body: updateBodySchema}}, async (req) =>
    service.update(req.params.id, req.body),
  )
}
