import type {Kafka, Producer, ProducerBatch, ProducerRecord, RecordMetadata} from 'kafkajs'

import type {Logger} from './logger.js'

/** What components need from a Kafka producer: sending, nothing about its lifecycle. */
export interface EventProducer {
  send(record: ProducerRecord): Promise<RecordMetadata[]>
  sendBatch(batch: ProducerBatch): Promise<RecordMetadata[]>
}

export interface RenewingProducer extends EventProducer {
  connect(): Promise<void>
  disconnect(): Promise<void>
  /** How many times the producer was replaced after the broker refused its producer id. */
  renewals(): number
}

/**
 * Errors after which an idempotent producer never succeeds again with the same producer id: the
 * broker lost (or never had) the id's sequence state, typically after it was killed and restarted.
 * kafkajs keeps sending with the old id and sequence, so every later send fails the same way.
 */
const FATAL_TYPES = new Set(['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH'])

/** True when the error, or any error it wraps, is one of those. */
export const needsNewProducerId = (error: unknown, depth = 0): boolean => {
  if (!error || typeof error !== 'object' || depth > 5) return false
  const e = error as {type?: unknown; cause?: unknown; originalError?: unknown; errors?: unknown}
  if (typeof e.type === 'string' && FATAL_TYPES.has(e.type)) return true
  if (Array.isArray(e.errors) && e.errors.some((inner) => needsNewProducerId(inner, depth + 1))) return true
  return needsNewProducerId(e.cause, depth + 1) || needsNewProducerId(e.originalError, depth + 1)
}

/**
 * An idempotent producer that replaces itself when the broker refuses its producer id for good
 * (see needsNewProducerId). The failing send still throws: its caller retries (the outbox relay
 * re-reads the unpublished rows, a consumer retries its batch), and the retry goes out under a
 * new producer id. Messages the old producer did get written may be written again; every consumer
 * deduplicates by event id, so the effect stays exactly once.
 */
export const createRenewingProducer = (
  kafka: Kafka,
  logger: Logger,
  options: {onCreate?: (producer: Producer) => void; name?: string} = {},
): RenewingProducer => {
  const make = (): Producer => {
    const producer = kafka.producer({allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1})
    options.onCreate?.(producer)
    return producer
  }
  let current = make()
  // The connect of the current producer; a renewal replaces both.
  let ready: Promise<void> | undefined
  let renewals = 0
  let closed = false

  const renew = (failed: Producer, error: unknown): void => {
    if (failed !== current || closed) return // another send already renewed it
    renewals++
    logger.warn('kafka.producer_renewed', {producer: options.name, error: (error as Error).message})
    const next = (current = make())
    ready = failed
      .disconnect()
      .catch(() => {})
      .then(() => next.connect())
  }

  /** The current producer once connected; a failed connect is tried again by the next call. */
  const connected = async (): Promise<Producer> => {
    for (;;) {
      if (closed) throw new Error('the Kafka producer is closed')
      const producer = current
      const pending = (ready ??= producer.connect())
      try {
        await pending
      } catch (error) {
        if (ready === pending) ready = undefined
        throw error
      }
      if (producer === current) return producer
    }
  }

  const use = async <T>(f: (p: Producer) => Promise<T>): Promise<T> => {
    const producer = await connected()
    try {
      return await f(producer)
    } catch (error) {
      if (needsNewProducerId(error)) renew(producer, error)
      throw error
    }
  }

  return {
    send: (record) => use((p) => p.send(record)),
    sendBatch: (batch) => use((p) => p.sendBatch(batch)),
    connect: async () => {
      await connected()
    },
    disconnect: async () => {
      closed = true
      await current.disconnect()
    },
    renewals: () => renewals,
  }
}
