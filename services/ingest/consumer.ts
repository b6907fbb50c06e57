import type {Redis} from 'ioredis'

import type {RunnerContext} from '../../src/runtime/runner.js'
import type {Kit} from '../shared/component.js'
import {startRabbitConsumer} from '../shared/rabbit-consumer.js'
import {AggregateOverflowError, recordPulse} from './aggregate.js'
import {parsePulse} from './pulse.js'

/**
 * Consumes `pulses`: validate (invalid → PoisonMessageError → `pulses.dlq` with the reason in
 * x-error-message), then one atomic Redis step (dedupe by message_id + exact increment). The
 * shared consumer acks only after this handler returned, i.e. after the Redis write.
 */
export const startPulseConsumer = async (kit: Kit, ctx: RunnerContext, flush: () => Promise<unknown>): Promise<{stopped: Promise<void>}> => {
  const redis: Redis = kit.redis
  return startRabbitConsumer(
    {
      conn: kit.rabbit,
      queue: ctx.ns('pulses'),
      prefetch: 200,
      backoffMs: [...ctx.config.retryBackoffMs],
      logger: kit.logger,
      stats: kit.counters,
      onDeadLetter: (msg, error) => kit.feed({type: 'pulse', id: msg.properties.messageId as string | undefined, outcome: 'dead-lettered', detail: error.message}),
      handle: async (msg) => {
        const pulse = parsePulse(msg.content)
        const raw: unknown = msg.properties.messageId
        const messageId = typeof raw === 'string' && raw !== '' ? raw : undefined
        let outcome: 'counted' | 'duplicate'
        try {
          outcome = await recordPulse(redis, ctx.ns, pulse, messageId)
        } catch (error) {
          if (!(error instanceof AggregateOverflowError)) throw error
          // The live total of this key reached the Redis integer limit: move it to PostgreSQL now.
          kit.logger.warn('ingest.aggregate_overflow_flush', {error: error.message})
          await flush()
          outcome = await recordPulse(redis, ctx.ns, pulse, messageId)
        }
        kit.feed({type: 'pulse', id: messageId, outcome: 'handled', ...(outcome === 'duplicate' ? {detail: 'duplicate'} : {})})
      },
    },
    ctx.signal,
  )
}
