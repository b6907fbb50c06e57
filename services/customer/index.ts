import type {Runner} from '../shared/runner.js'
import {type ComponentDeps, defineComponent, startRelay} from '../shared/component.js'
import {startRabbitConsumer} from '../shared/rabbit-consumer.js'
import {createCustomerCache} from './cache.js'
import {SCHEMA} from './domain.js'
import {handleOrdersCreated, ORDER_EVENTS_QUEUE} from './order-events.js'
import {customerRoutes} from './routes.js'
import {createCustomerService} from './service.js'

/** What customer is built with: the retries of its consumer, and its clients. */
export type CustomerDeps = ComponentDeps

/** The customer component (PLATFORM.md §3.1): HTTP API, Redis cache, order-events consumer, outbox relay. */
export const createCustomerRunner = ({config, clients}: CustomerDeps): Runner =>
  defineComponent('customer', {postgres: true, kafka: true, rabbitmq: true}, clients, async (kit, ctx) => {
    const cache = createCustomerCache(kit.redis, ctx.ns, ctx.logger)
    const service = createCustomerService({pool: kit.pool, cache, ns: ctx.ns})
    const queue = ctx.ns(ORDER_EVENTS_QUEUE)
    const relay = startRelay(kit, ctx, SCHEMA)
    const consumer = await startRabbitConsumer(
      {
        link: kit.rabbit,
        queue,
        component: 'customer',
        handleBatch: handleOrdersCreated({pool: kit.pool, cache, ns: ctx.ns, logger: ctx.logger, feed: kit.feed}),
        backoffMs: [...config.retryBackoffMs],
        logger: ctx.logger,
        stats: kit.counters,
        onDeadLetter: (_msg, error) => kit.feed({type: 'order.created', outcome: 'dead-lettered', detail: error.message}),
      },
      ctx.signal,
    )
    return {
      routes: customerRoutes(service),
      tasks: [relay.stopped, consumer.stopped],
      info: () => ({queue, relayActive: relay.active()}),
    }
  })
