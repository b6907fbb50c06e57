import {createHash} from 'node:crypto'

import type {FastifyInstance} from 'fastify'

import type {Logger} from '../shared/logger.js'
import {conflict, HttpError, notFound, unprocessable} from '../shared/errors.js'
import type {BasketStore} from './basket-store.js'
import {isUuid, MAX_ID_LENGTH, MAX_LINES, MAX_QUANTITY, type OrderLineInput} from './domain.js'
import type {Lookups} from './lookups.js'
import {idempotencyHeaders, lineSchema} from './routes.js'
import type {Idempotency, OrderService} from './service.js'

const id = {type: 'string', minLength: 1, maxLength: MAX_ID_LENGTH} as const
const customerParams = {type: 'object', required: ['customer_id'], properties: {customer_id: id}} as const

/**
 * Baskets (PLATFORM.md §3.3). A basket belongs to a customer: a path id that cannot be a customer
 * id is a 404 on every basket route (as GET /customers/abc is). Adding an item checks, through the
 * same lookups as POST /orders, that the customer and the product exist (422 naming the field
 * otherwise), so no basket is stored for either that does not; checkout applies every rule of
 * POST /orders again, since a product may be gone by then.
 *
 * Checkout is safe against double submit: a per-basket lock makes a concurrent second checkout
 * fail with 409; after the order is committed exactly the ordered quantities are removed (items
 * added meanwhile stay), so a later resubmit finds an empty basket (422) instead of ordering again;
 * and with an Idempotency-Key a retried checkout answers the same order (201) without touching the basket.
 */
export const basketRoutes = (app: FastifyInstance, deps: {store: BasketStore; service: OrderService; lookups: Lookups; logger: Logger}): void => {
  const {store, service, lookups} = deps

  /** Every basket route: a path id that cannot be a customer's is a 404. */
  const customerIdOf = (req: {params: {customer_id: string}}): string => {
    if (!isUuid(req.params.customer_id)) throw notFound('customer', req.params.customer_id)
    return req.params.customer_id
  }

  /** 422 naming the field when the customer or the product does not exist. */
  const assertLine = async (customerId: string, productId: string): Promise<void> => {
    await lookups.assertCustomer(customerId)
    try {
      await lookups.prices([{product_id: productId, quantity: 1, index: 0}])
    } catch (error) {
      // The lookup names `items[0].product_id`, the field of POST /orders; here it is `product_id`.
      if (error instanceof HttpError && error.statusCode === 422)
        throw unprocessable(`product_id: product ${productId} not found`, {field: 'product_id', product_id: productId})
      throw error
    }
  }
  const view = async (customerId: string) => ({
    customer_id: customerId,
    items: await store.get(customerId),
    ttl_seconds: Math.max(0, await store.ttl(customerId)),
  })

  app.get<{Params: {customer_id: string}}>('/baskets/:customer_id', {schema: {params: customerParams}}, async (req) => view(customerIdOf(req)))

  app.put<{Params: {customer_id: string}; Body: OrderLineInput}>(
    '/baskets/:customer_id/items',
    {schema: {params: customerParams, body: lineSchema}},
    async (req) => {
      const customerId = customerIdOf(req)
      await assertLine(customerId, req.body.product_id)
      await store.add(customerId, req.body.product_id, req.body.quantity)
      return view(customerId)
    },
  )

  app.delete<{Params: {customer_id: string; product_id: string}}>(
    '/baskets/:customer_id/items/:product_id',
    {schema: {params: {type: 'object', required: ['customer_id', 'product_id'], properties: {customer_id: id, product_id: id}}}},
    async (req) => {
      // Idempotent: removing a product that is not in the basket leaves it as it is (200).
      const customerId = customerIdOf(req)
      await store.remove(customerId, req.params.product_id)
      return view(customerId)
    },
  )

  app.post<{Params: {customer_id: string}; Headers: {'idempotency-key'?: string}}>(
    '/baskets/:customer_id/checkout',
    {schema: {params: customerParams, headers: idempotencyHeaders}},
    async (req, reply) => {
      const customerId = customerIdOf(req)
      const clientKey = req.headers['idempotency-key']
      // The basket changes after a checkout, so a checkout key is fingerprinted by its customer only.
      const idempotency: Idempotency | undefined =
        clientKey === undefined
          ? undefined
          : {key: `checkout:${customerId}:${clientKey}`, hash: createHash('sha256').update(`checkout\0${customerId}`).digest('hex')}
      if (idempotency) {
        const earlier = await service.replay({key: idempotency.key, hash: idempotency.hash!})
        if (earlier) return reply.status(201).header('idempotent-replayed', 'true').send(earlier)
      }
      const release = await store.lockCheckout(customerId)
      if (!release) throw conflict(`a checkout of the basket of customer ${customerId} is already in progress`)
      try {
        const lines = await store.get(customerId)
        if (lines.length === 0) throw unprocessable(`the basket of customer ${customerId} is empty`, {field: 'items'})
        if (lines.length > MAX_LINES) throw unprocessable(`items: the basket has ${lines.length} products, more than ${MAX_LINES}`, {field: 'items'})
        const tooMany = lines.findIndex((l) => !Number.isSafeInteger(l.quantity) || l.quantity < 1 || l.quantity > MAX_QUANTITY)
        if (tooMany >= 0)
          throw unprocessable(
            `items[${tooMany}].quantity: ${lines[tooMany]!.quantity} of product ${lines[tooMany]!.product_id} is not between 1 and ${MAX_QUANTITY}`,
            {field: `items[${tooMany}].quantity`},
          )
        const {order, replayed} = await service.create({customer_id: customerId, items: lines}, idempotency)
        if (!replayed) {
          // Only after the commit; a failure here leaves the order valid and the basket as it was.
          await store
            .removeOrdered(customerId, lines)
            .catch((error: Error) => deps.logger.warn('basket.clear_failed', {customer_id: customerId, order_id: order.id, error: error.message}))
        }
        return reply.status(201).header('location', `/orders/${order.id}`).send(order)
      } finally {
        await release().catch(() => {})
      }
    },
  )
}
