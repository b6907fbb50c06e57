import {randomUUID} from 'node:crypto'

import {PoisonMessageError} from './errors.js'
import {dottedPath, findTextFault, utf8Text} from './text.js'

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

/**
 * Parses and checks an envelope; anything else can never succeed, so it is a poison message (the
 * reason names what is wrong). The value must be UTF-8 (never decoded with silent U+FFFD
 * replacements), the version a safe integer (JSON numbers past 2^53 lose precision), and no string
 * may hold NUL or an unpaired surrogate (PostgreSQL cannot store them as text).
 */
export const parseEnvelope = (value: Buffer | string | null | undefined): Envelope => {
  if (value === null || value === undefined) throw new PoisonMessageError('empty message value')
  const text = typeof value === 'string' ? value : utf8Text(value)
  if (text === undefined) throw new PoisonMessageError('message value is not valid UTF-8')
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new PoisonMessageError('message value is not JSON')
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new PoisonMessageError('message value is not a JSON object')
  const e = parsed as Partial<Envelope>
  const missing = (['event_id', 'type', 'occurred_at', 'aggregate_id', 'aggregate_version', 'data'] as const).filter((k) => e[k] === undefined || e[k] === null)
  if (missing.length > 0) throw new PoisonMessageError(`envelope lacks ${missing.join(', ')}`)
  for (const k of ['event_id', 'type', 'occurred_at', 'aggregate_id'] as const) {
    if (typeof e[k] !== 'string' || e[k] === '') throw new PoisonMessageError(`${k} must be a non-empty string (got ${JSON.stringify(e[k]).slice(0, 40)})`)
  }
  if (typeof e.aggregate_version !== 'number' || !Number.isInteger(e.aggregate_version)) throw new PoisonMessageError('aggregate_version is not an integer')
  if (!Number.isSafeInteger(e.aggregate_version))
    throw new PoisonMessageError(`aggregate_version ${e.aggregate_version} is past 2^53 - 1 (not exact as a JSON number)`)
  if (typeof e.data !== 'object' || Array.isArray(e.data)) throw new PoisonMessageError('data is not an object')
  const bad = findTextFault(e)
  if (bad) throw new PoisonMessageError(`${dottedPath('', bad.path) || 'the envelope'} ${bad.fault}`)
  return e as Envelope
}

/** Kafka headers every envelope carries. */
export const envelopeHeaders = (e: Envelope): Record<string, string> => ({'event-type': e.type, 'event-id': e.event_id})
