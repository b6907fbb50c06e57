import type {Runner} from '../shared/runner.js'
import {type ComponentDeps, defineComponent, startRelay} from '../shared/component.js'
import {createRabbitPublisher} from '../shared/rabbit.js'
import {basketRoutes} from './basket-routes.js'
import {createBasketStore} from './basket-store.js'
import {startStockConsumer} from './consumers.js'
import {createLookups} from './lookups.js'
import {SCHEMA} from './domain.js'
import {orderRoutes} from './routes.js'
import {createOrderService} from './service.js'

/** What order is built with: the retries of its consumer, and its clients. */
export type OrderDeps = ComponentDeps

/**
 * The order component (PLATFORM.md §3.3): orders and their status machine in PostgreSQL schema
 * `order`, baskets in Redis, events through the outbox to Kafka (and order.created to RabbitMQ).
 */
export const createOrderRunner = ({config, clients}: OrderDeps): Runner =>
  defineComponent('order', {postgres: true, kafka: true, rabbitmq: true}, clients, async (kit, ctx) => {
    const lookups = createLookups({redis: kit.redis, ns: ctx.ns, api: ctx.api, logger: kit.logger})
    const service = createOrderService({pool: kit.pool, lookups, ns: ctx.ns})
    const store = createBasketStore(kit.redis, ctx.ns)
    const publisher = await createRabbitPublisher(kit.rabbit, kit.trips)
    const consumer = await startStockConsumer(kit, ctx, service, config.retryBackoffMs)
    const relay = startRelay(kit, ctx, SCHEMA, publisher)
    return {
      routes: (app) => {
        orderRoutes(app, service)
        basketRoutes(app, {store, service, lookups, logger: kit.logger})
      },
      tasks: [consumer.stopped, relay.stopped.finally(() => publisher.close())],
      info: () => ({outboxRelayActive: relay.active()}),
    }
  })
