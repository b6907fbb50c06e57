import type {RunnerContext} from '../shared/runner.js'
import type {Kit} from '../shared/component.js'
import {parseEnvelope} from '../shared/envelope.js'
import {PoisonMessageError} from '../shared/errors.js'
import {startKafkaConsumer} from '../shared/kafka.js'
import type {OrderService, StockEvent} from './service.js'

/**
 * Consumes stock.reserved (PENDING → RESERVED) and stock.rejected (PENDING → CANCELED with the
 * rejection's reason), group `order`. Each event id is recorded in the transition's transaction,
 * so a redelivery has no second effect; the shared consumer commits the offset only afterwards.
 *
 * The cancel/reserve race: a user may cancel a PENDING order before product reserved its stock.
 * The cancel emits order.canceled at once; a stock.reserved arriving later leaves the order
 * CANCELED (never resurrected). Product releases the reservation when it sees order.canceled,
 * whichever of order.created / order.canceled it consumes first (it remembers a cancellation that
 * arrives before the reservation, so it does not reserve for a canceled order).
 */
export const startStockConsumer = (kit: Kit<{kafka: true}>, ctx: RunnerContext, service: OrderService, backoffMs: readonly number[]) => {
  const reserved = ctx.ns('stock.reserved')
  const rejected = ctx.ns('stock.rejected')
  return startKafkaConsumer(
    {
      kafka: kit.kafka,
      groupId: ctx.ns('order'),
      topics: [reserved, rejected],
      producer: kit.producer,
      backoffMs: [...backoffMs],
      logger: kit.logger,
      stats: kit.counters,
      onDeadLetter: (m, error) => kit.feed({type: m.topic === reserved ? 'stock.reserved' : 'stock.rejected', outcome: 'dead-lettered', detail: error.message}),
      async handleBatch(ms) {
        const events = ms.map(({topic, message}): StockEvent & {type: string} => {
          const envelope = parseEnvelope(message.value)
          const expected = topic === reserved ? 'stock.reserved' : 'stock.rejected'
          if (envelope.type !== expected) throw new PoisonMessageError(`envelope type ${envelope.type} on the ${expected} topic`)
          const data = envelope.data as {order_id?: unknown; reason?: unknown; product_id?: unknown}
          if (typeof data.order_id !== 'string') throw new PoisonMessageError('data.order_id is not a string')
          if (topic === reserved) return {type: 'stock.reserved', eventId: envelope.event_id, orderId: data.order_id, transition: 'reserve'}
          const reason =
            typeof data.reason === 'string' && data.reason !== '' ? data.reason : `stock rejected for product ${String(data.product_id ?? 'unknown')}`
          return {type: 'stock.rejected', eventId: envelope.event_id, orderId: data.order_id, transition: 'cancel', reason}
        })
        const outcomes = await service.applyStockEvents(events)
        events.forEach(({type, orderId}, k) => {
          const outcome = outcomes[k]!
          if (outcome.kind === 'ignored') kit.logger.info('order.stock_event_ignored', {type, order_id: orderId, status: outcome.status})
          if (outcome.kind !== 'duplicate')
            kit.feed({
              type,
              id: orderId,
              outcome: 'handled',
              detail: outcome.kind === 'applied' ? `order ${outcome.order.status}` : `ignored: order is ${outcome.status}`,
            })
        })
      },
    },
    ctx.signal,
  )
}
