import {randomUUID} from 'node:crypto'

import {PoisonMessageError} from './errors.js'

/** The event envelope of PLATFORM.md §4: the Kafka value of every domain event. */
export interface Envelope<T = Record<string, unknown>> {
  event_id: string
  type: string
  occurred_at: string
  aggregate_id: string
  aggregate_version: number
  data: T
}

export const newEnvelope = <T extends Record<string, unknown>>(type: string, aggregateId: string, version: number, data: T): Envelope<T> => ({
  event_id: randomUUID(),
  type,
  occurred_at: new Date().toISOString(),
  aggregate_id: aggregateId,
  aggregate_version: version,
  data,
})

/** Parses and checks an envelope; anything else can never succeed, so it is a poison message. */
export const parseEnvelope = (value: Buffer | string | null | undefined): Envelope => {
  if (value === null || value === undefined) throw new PoisonMessageError('empty message value')
  let parsed: unknown
  try {
    parsed = JSON.parse(value.toString())
  } catch {
    throw new PoisonMessageError('message value is not JSON')
  }
  const e = parsed as Partial<Envelope>
  const missing = (['event_id', 'type', 'occurred_at', 'aggregate_id', 'aggregate_version', 'data'] as const).filter((k) => e?.[k] === undefined || e?.[k] === null)
  if (missing.length > 0) throw new PoisonMessageError(`envelope lacks ${missing.join(', ')}`)
  if (typeof e.aggregate_version !== 'number' || !Number.isInteger(e.aggregate_version)) throw new PoisonMessageError('aggregate_version is not an integer')
  if (typeof e.data !== 'object') throw new PoisonMessageError('data is not an object')
  return e as Envelope
}

/** Kafka headers every envelope carries. */
export const envelopeHeaders = (e: Envelope): Record<string, string> => ({'event-type': e.type, 'event-id': e.event_id})
