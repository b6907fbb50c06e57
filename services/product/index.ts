import type {Runner} from '../shared/runner.js'
import {type ComponentDeps, defineComponent, startRelay} from '../shared/component.js'
import {startKafkaConsumer} from '../shared/kafka.js'
import {SCHEMA} from './domain.js'
import {GROUP, handleOrderEvents, ORDER_TOPICS} from './order-events.js'
import {productRoutes} from './routes.js'
import {createProductService} from './service.js'

/** What product is built with: the retries of its consumer, and its clients. */
export type ProductDeps = ComponentDeps

/** The product component (PLATFORM.md §3.2): HTTP API, stock reservations from order events, outbox relay. */
export const createProductRunner = ({config, clients}: ProductDeps): Runner =>
  defineComponent('product', {postgres: true, kafka: true}, clients, async (kit, ctx) => {
    const service = createProductService({pool: kit.pool, ns: ctx.ns})
    const relay = startRelay(kit, ctx, SCHEMA)
    const topics = ORDER_TOPICS.map((t) => ctx.ns(t))
    const consumer = await startKafkaConsumer(
      {
        kafka: kit.kafka,
        groupId: ctx.ns(GROUP),
        topics,
        handleBatch: handleOrderEvents({pool: kit.pool, ns: ctx.ns, logger: ctx.logger, feed: kit.feed}),
        backoffMs: [...config.retryBackoffMs],
        producer: kit.producer,
        logger: ctx.logger,
        stats: kit.counters,
        onDeadLetter: (m, error) => kit.feed({type: m.topic, id: m.message.key?.toString(), outcome: 'dead-lettered', detail: error.message}),
      },
      ctx.signal,
    )
    return {
      routes: productRoutes(service),
      tasks: [relay.stopped, consumer.stopped],
      info: () => ({group: ctx.ns(GROUP), topics, relayActive: relay.active()}),
    }
  })
