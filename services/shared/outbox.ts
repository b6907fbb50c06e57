import {ROOT_CONTEXT, type Span, SpanKind, trace} from '@opentelemetry/api'
import pg from 'pg'

import type {Logger} from './logger.js'
import type {EventProducer} from './kafka-producer.js'
import {sleep} from './wait.js'
import {type Envelope, envelopeHeaders} from './envelope.js'
import type {RabbitPublisher} from './rabbit.js'
import {countPgClient, type RoundTrips} from './round-trips.js'
import {ATTR, failSpan, messageSpan, traceHeaders, withTraceHeaders} from './tracing.js'

/** Each component's relay listens on its own channel, so a commit wakes only the relay concerned. */
export const outboxChannel = (schema: string): string => `mm_outbox_${schema}`

/** One message to publish after the transaction that wrote it commits. */
export interface OutboxMessage {
  destination: 'kafka' | 'rabbitmq'
  /** Kafka topic, or RabbitMQ `exchange:routingKey`. */
  topic: string
  key: string
  value: string
  headers: Record<string, string>
}

export const kafkaMessage = (e: Envelope, ns: (name: string) => string = (n) => n): OutboxMessage => ({
  destination: 'kafka',
  topic: ns(e.type),
  key: e.aggregate_id,
  value: JSON.stringify(e),
  headers: envelopeHeaders(e),
})

/**
 * The INSERT that writes messages to a component's outbox, for statements that do more in the
 * same round trip (as a CTE); its five parameters start at `$first` and come from outboxParams.
 */
export const outboxInsert = (schema: string, first: number): string =>
  `INSERT INTO "${schema}".outbox (destination, topic, message_key, payload, headers)
   SELECT * FROM unnest($${first}::text[], $${first + 1}::text[], $${first + 2}::text[], $${first + 3}::text[], $${first + 4}::jsonb[])`

export const outboxParams = (messages: OutboxMessage[]): unknown[] => [
  messages.map((m) => m.destination),
  messages.map((m) => m.topic),
  messages.map((m) => m.key),
  messages.map((m) => m.value),
  // The row keeps the trace context of the request or message that wrote it; the relay publishes under it.
  messages.map((m) => JSON.stringify(withTraceHeaders(m.key, m.headers))),
]

/**
 * Writes messages to the component's outbox in the caller's transaction and wakes the relay
 * (NOTIFY is delivered on commit, so the relay never sees uncommitted rows).
 */
export const appendOutbox = async (client: pg.PoolClient, schema: string, messages: OutboxMessage[]): Promise<void> => {
  if (messages.length === 0) return
  // One round trip: the rows and the wake-up (NOTIFY is delivered on commit).
  await client.query(`WITH rows AS (${outboxInsert(schema, 1)}) SELECT pg_notify($6, '')`, [...outboxParams(messages), outboxChannel(schema)])
}

export interface RelayDeps {
  url: string
  schema: string
  producer: EventProducer
  rabbit?: RabbitPublisher
  logger: Logger
  batchSize?: number
  /** Fallback poll when no NOTIFY arrives; also how often a standby relay tries to take over. */
  pollMs?: number
  onPublished?: (count: number) => void
  /** Counts the relay's own queries. */
  trips?: RoundTrips
}

export interface Relay {
  /** True while this instance holds the component's relay lock. */
  active(): boolean
  stopped: Promise<void>
}

interface Row {
  id: string
  destination: 'kafka' | 'rabbitmq'
  topic: string
  message_key: string
  payload: string
  headers: Record<string, string>
  created_ms: number
}

/**
 * Publishes the outbox in id order, in batches. One active relay per component: a session-level
 * advisory lock; other instances stand by and take over when the holder's session ends. Rows are
 * marked published only after the broker acknowledged them (at-least-once; consumers dedupe).
 */
export const startOutboxRelay = (deps: RelayDeps, signal: AbortSignal): Relay => {
  const batchSize = deps.batchSize ?? 500
  const pollMs = deps.pollMs ?? 1000
  let isActive = false
  let wake: (() => void) | undefined
  // Set by every NOTIFY; a notification that arrives while a batch is being published must not
  // be lost (it would leave new rows waiting for the fallback poll).
  let notified = false

  // Published but not yet marked: marked by the next batch's query (one round trip per batch
  // under load), or on its own before the relay waits or stops.
  let unmarked: string[] = []
  const markDone = async (client: pg.Client): Promise<void> => {
    if (unmarked.length === 0) return
    await client.query(`UPDATE "${deps.schema}".outbox SET published_at = now() WHERE id = ANY($1::bigint[])`, [unmarked])
    unmarked = []
  }

  const publishBatch = async (client: pg.Client): Promise<number> => {
    // The SELECT runs on the statement's snapshot, which does not show the UPDATE: it leaves those rows out itself.
    const {rows} = await client.query<Row>(
      `WITH marked AS (UPDATE "${deps.schema}".outbox SET published_at = now() WHERE id = ANY($2::bigint[]))
       SELECT id, destination, topic, message_key, payload, headers, (extract(epoch FROM created_at) * 1000)::float8 AS created_ms FROM "${deps.schema}".outbox
       WHERE published_at IS NULL AND id <> ALL($2::bigint[]) ORDER BY id LIMIT $1`,
      [batchSize, unmarked],
    )
    unmarked = []
    if (rows.length === 0) return 0
    const spans = publishSpans(rows, deps.schema)
    try {
      const kafkaRows = rows.filter((r) => r.destination === 'kafka')
      if (kafkaRows.length > 0) {
        const byTopic = new Map<string, Row[]>()
        for (const r of kafkaRows) byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), r])
        await deps.producer.sendBatch({
          acks: -1,
          topicMessages: [...byTopic].map(([topic, msgs]) => ({
            topic,
            messages: msgs.map((m) => ({key: m.message_key, value: m.payload, headers: m.headers})),
          })),
        })
      }
      const rabbitRows = rows.filter((r) => r.destination === 'rabbitmq')
      if (rabbitRows.length > 0) {
        if (!deps.rabbit) throw new Error('outbox has RabbitMQ messages but the relay has no RabbitMQ publisher')
        await deps.rabbit.publishConfirmed(
          rabbitRows.map((r) => {
            const [exchange, routingKey] = splitTopic(r.topic)
            return {
              exchange,
              routingKey,
              body: Buffer.from(r.payload),
              options: {messageId: r.headers['message-id'] ?? r.message_key, contentType: 'application/json', headers: r.headers, persistent: true},
            }
          }),
        )
      }
    } catch (error) {
      for (const span of spans) failSpan(span, error)
      throw error
    } finally {
      for (const span of spans) span.end()
    }
    unmarked = rows.map((r) => r.id)
    deps.onPublished?.(rows.length)
    return rows.length
  }

  const session = async (): Promise<void> => {
    const client = new pg.Client({connectionString: deps.url})
    client.on('error', (error) => deps.logger.warn('outbox.session_error', {error: error.message}))
    if (deps.trips) countPgClient(client, deps.trips)
    client.on('notification', () => {
      notified = true
      wake?.()
    })
    await client.connect()
    try {
      const {rows} = await client.query<{locked: boolean}>('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [`mm.outbox.${deps.schema}`])
      if (!rows[0]?.locked) {
        isActive = false
        await sleep(pollMs * 2, signal)
        return
      }
      isActive = true
      deps.logger.info('outbox.relay_active', {schema: deps.schema})
      await client.query(`LISTEN ${outboxChannel(deps.schema)}`)
      while (!signal.aborted) {
        notified = false
        const n = await publishBatch(client)
        if (n === batchSize || notified) continue
        await markDone(client)
        // A commit during markDone notified while no wake-up was armed: publish now, not after
        // pollMs. (Checked here, with no await before the wait below, so none can slip between.)
        // Missing this held rows up to a second under load: mm trace showed stock.reserved 0.7-0.9 s
        // in product's outbox after its transaction had committed.
        if (notified) continue
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, pollMs)
          function done() {
            clearTimeout(timer)
            signal.removeEventListener('abort', done)
            wake = undefined
            resolve()
          }
          wake = done
          signal.addEventListener('abort', done, {once: true})
        })
      }
      await markDone(client)
    } finally {
      isActive = false
      await client.end().catch(() => {})
    }
  }

  const stopped = (async () => {
    while (!signal.aborted) {
      try {
        await session()
      } catch (error) {
        deps.logger.warn('outbox.relay_error', {schema: deps.schema, error: (error as Error).message})
        await sleep(pollMs, signal)
      }
    }
  })()
  return {active: () => isActive, stopped}
}

/**
 * One PRODUCER span per traced row, a child of the context the row was written under (so each
 * order's events stay in its own trace however the relay batches them); the row's headers then
 * carry the publish span's context to the consumers. Rows written without a trace get none.
 */
const publishSpans = (rows: Row[], schema: string): Span[] => {
  const spans: Span[] = []
  const now = Date.now()
  for (const r of rows) {
    const span = messageSpan(`publish ${r.destination === 'kafka' ? r.topic : splitTopic(r.topic).join(' ')}`, SpanKind.PRODUCER, r.headers, () => ({
      'messaging.system': r.destination,
      'messaging.destination.name': r.topic,
      'messaging.operation.type': 'send',
      [ATTR.component]: schema,
      [ATTR.aggregateId]: r.message_key,
      [ATTR.outboxWaitMs]: Math.max(0, Math.round(now - r.created_ms)),
      ...(r.headers['event-type'] ? {[ATTR.eventType]: r.headers['event-type']} : {}),
      ...(r.headers['event-id'] ? {[ATTR.eventId]: r.headers['event-id']} : {}),
    }))
    if (!span?.isRecording()) continue
    r.headers = {...r.headers, ...traceHeaders(trace.setSpan(ROOT_CONTEXT, span))}
    spans.push(span)
  }
  return spans
}

const splitTopic = (topic: string): [string, string] => {
  const i = topic.indexOf(':')
  return i < 0 ? ['', topic] : [topic.slice(0, i), topic.slice(i + 1)]
}
