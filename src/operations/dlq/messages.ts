/**
 * Pure helpers shared by both brokers: how a dead letter is shown, which error it carries, where
 * it came from, and the headers a replay stamps. No I/O here, so it is unit-tested directly.
 */
import type {Broker} from './catalog.js'

export const REPLAY_COUNT_HEADER = 'x-replay-count'

export interface DlqError {
  errorClass: string
  message?: string
  attempts?: number
  failedAt?: string
}

/** One dead letter as `mm dlq show` presents it (the same shape for both brokers). */
export interface DlqMessage {
  /** Kafka `partition/offset`; RabbitMQ position in the queue, from 1. */
  id: string
  partition?: number
  offset?: string
  /** Kafka message key; RabbitMQ message_id. */
  key: string | null
  value: string | null
  /** `utf8` when the bytes are valid UTF-8 text, else `base64`. */
  valueEncoding: 'utf8' | 'base64'
  bytes: number
  headers: Record<string, string>
  error: DlqError
  /** Where it failed: Kafka topic/partition/offset, or RabbitMQ queue/exchange/routing key. */
  original: {topic?: string; partition?: number; offset?: string; group?: string; queue?: string; exchange?: string; routingKey?: string}
  replayCount: number
  /** The trace the message belonged to (its traceparent header): mm trace <traceId>. */
  traceId: string | null
  /** When it entered the DLQ (broker timestamp), ISO 8601. */
  timestamp?: string
}

export interface ErrorClassCount {
  errorClass: string
  count: number
}

const decoder = new TextDecoder('utf-8', {fatal: true})

/** Bytes as text when they are valid UTF-8, base64 otherwise; null stays null (a Kafka tombstone). */
export const bodyText = (bytes: Buffer | null | undefined): {value: string | null; valueEncoding: 'utf8' | 'base64'; bytes: number} => {
  if (!bytes) return {value: null, valueEncoding: 'utf8', bytes: 0}
  try {
    return {value: decoder.decode(bytes), valueEncoding: 'utf8', bytes: bytes.length}
  } catch {
    return {value: bytes.toString('base64'), valueEncoding: 'base64', bytes: bytes.length}
  }
}

/** Any header value (Kafka Buffer or Buffer[], RabbitMQ number, string, table or array) as one line of text. */
export const headerText = (value: unknown): string => {
  if (value === undefined || value === null) return ''
  if (Buffer.isBuffer(value)) return value.toString('utf8')
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value)
  if (value instanceof Date) return value.toISOString()
  if (Array.isArray(value) && value.every((v) => Buffer.isBuffer(v) || typeof v === 'string')) return value.map(headerText).join(',')
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && (v as {type?: string}).type === 'Buffer' ? headerText(Buffer.from((v as {data: number[]}).data)) : v,
  )
}

export const headersText = (headers: Record<string, unknown> | undefined): Record<string, string> =>
  Object.fromEntries(
    Object.entries(headers ?? {})
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, headerText(v)]),
  )

/** The replay count a message carries; absent or unreadable means 0. */
export const replayCountOf = (value: unknown): number => {
  const n = Number.parseInt(headerText(Array.isArray(value) ? value.at(-1) : value), 10)
  return Number.isFinite(n) && n > 0 ? n : 0
}

const int = (v: string | undefined): number | undefined => {
  const n = v === undefined || v === '' ? Number.NaN : Number(v)
  return Number.isInteger(n) ? n : undefined
}

/** The error a dead letter carries: mm's x-error-* headers, else RabbitMQ's x-death (a consumer rejected it). */
export const errorOf = (headers: Record<string, string>, xDeath?: unknown): DlqError => {
  if (headers['x-error-class']) {
    return {errorClass: headers['x-error-class'], message: headers['x-error-message'], attempts: int(headers['x-attempts']), failedAt: headers['x-failed-at']}
  }
  const death = firstDeath(xDeath)
  const reason = death?.reason ?? headers['x-first-death-reason']
  if (reason) return {errorClass: `dead-lettered:${reason}`, attempts: death?.count, failedAt: death?.time}
  return {errorClass: 'unknown'}
}

interface Death {
  queue?: string
  exchange?: string
  routingKey?: string
  reason?: string
  count?: number
  time?: string
}

/** The most recent entry of RabbitMQ's x-death header (an array of tables, newest first). */
export const firstDeath = (xDeath: unknown): Death | undefined => {
  if (!Array.isArray(xDeath) || xDeath.length === 0) return undefined
  const d = xDeath[0] as Record<string, unknown>
  const keys = d['routing-keys']
  const time = d.time
  return {
    queue: d.queue === undefined ? undefined : headerText(d.queue),
    exchange: d.exchange === undefined ? undefined : headerText(d.exchange),
    routingKey: Array.isArray(keys) && keys.length > 0 ? headerText(keys[0]) : undefined,
    reason: d.reason === undefined ? undefined : headerText(d.reason),
    count: typeof d.count === 'number' ? d.count : undefined,
    // amqplib decodes AMQP timestamps as seconds since the epoch.
    time: typeof time === 'number' ? new Date(time * 1000).toISOString() : time === undefined ? undefined : headerText(time),
  }
}

/** Where a Kafka dead letter came from (the x-original-* headers), with the DLQ's own topic as fallback. */
export const kafkaOriginal = (headers: Record<string, string>, source: string): {topic: string; partition?: number; offset?: string; group?: string} => ({
  topic: headers['x-original-topic'] || source,
  partition: int(headers['x-original-partition']),
  offset: headers['x-original-offset'] || undefined,
  // The consumer group that failed on it (dead letters written before this header have none).
  group: headers['x-consumer-group'] || undefined,
})

/**
 * The message a Kafka dead letter is a copy of (topic/partition/offset), or undefined when its
 * headers do not say: each consumer group that failed on one message dead-letters its own copy.
 */
export const originalMessageId = (o: {topic?: string; partition?: number; offset?: string}): string | undefined =>
  o.topic === undefined || o.partition === undefined || o.offset === undefined ? undefined : `${o.topic}/${o.partition}/${o.offset}`

/** Where a RabbitMQ dead letter came from: mm's x-original-* headers, else x-death, else the DLQ's queue. */
export const rabbitOriginal = (headers: Record<string, string>, xDeath: unknown, source: string): {queue: string; exchange?: string; routingKey?: string} => {
  const death = firstDeath(xDeath)
  return {
    queue: headers['x-original-queue'] || death?.queue || headers['x-first-death-queue'] || source,
    exchange: headers['x-original-exchange'] ?? death?.exchange ?? headers['x-first-death-exchange'],
    routingKey: headers['x-original-routing-key'] ?? death?.routingKey,
  }
}

/** The most frequent error classes, most frequent first (ties by name), at most `top`. */
export const topErrorClasses = (errors: Iterable<{errorClass: string}>, top = 3): ErrorClassCount[] => {
  const counts = new Map<string, number>()
  for (const e of errors) counts.set(e.errorClass, (counts.get(e.errorClass) ?? 0) + 1)
  return [...counts.entries()]
    .map(([errorClass, count]) => ({errorClass, count}))
    .sort((a, b) => b.count - a.count || a.errorClass.localeCompare(b.errorClass))
    .slice(0, top)
}

/**
 * Headers of a replayed message: every header kept as it is (same order, same bytes), with
 * x-replay-count set to `count` in place, or appended when it was absent.
 */
export const withReplayCount = <V>(headers: Record<string, V> | undefined, count: V): Record<string, V> => {
  const out: Record<string, V> = {}
  let set = false
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v === undefined) continue
    if (k === REPLAY_COUNT_HEADER) {
      out[k] = count
      set = true
    } else out[k] = v
  }
  if (!set) out[REPLAY_COUNT_HEADER] = count
  return out
}

/** Builds the view of a dead letter from decoded parts (the broker modules do the decoding). */
export const describe = (parts: {
  broker: Broker
  id: string
  source: string
  key: string | null
  body: Buffer | null
  rawHeaders: Record<string, unknown> | undefined
  partition?: number
  offset?: string
  timestamp?: string
}): DlqMessage => {
  const {['x-death']: xDeath, ...rest} = parts.rawHeaders ?? {}
  const headers = headersText(parts.rawHeaders)
  return {
    id: parts.id,
    partition: parts.partition,
    offset: parts.offset,
    key: parts.key,
    ...bodyText(parts.body),
    headers,
    error: errorOf(headersText(rest), xDeath),
    original: parts.broker === 'kafka' ? kafkaOriginal(headers, parts.source) : rabbitOriginal(headers, xDeath, parts.source),
    replayCount: replayCountOf(parts.rawHeaders?.[REPLAY_COUNT_HEADER]),
    traceId: traceIdOf(headers.traceparent),
    timestamp: parts.timestamp,
  }
}

/** The trace id of a W3C traceparent header (`00-<trace id>-<span id>-<flags>`), if it is one. */
export const traceIdOf = (traceparent: string | undefined): string | null => {
  const m = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(traceparent?.trim() ?? '')
  return m && !/^0+$/.test(m[1]!) ? m[1]! : null
}
