import amqp from 'amqplib'

import {errorMessage, UserError} from '../../lib/errors.js'
import type {Logger} from '../../lib/logger.js'
import type {DlqEntry} from './catalog.js'
import {describe, type DlqMessage, replayCountOf, REPLAY_COUNT_HEADER, withReplayCount} from './messages.js'
import {batchSizeFor, createRateLimiter} from './rate.js'
import type {ReplayCounts, ReplayOptions} from './types.js'

export const connectDlqRabbit = async (url: string, logger: Logger): Promise<amqp.ChannelModel> => {
  const conn = await amqp.connect(url, {timeout: 5000})
  conn.on('error', (error: Error) => logger.debug('rabbitmq.connection_error', {error: error.message}))
  return conn
}

/** A confirm channel whose failure (e.g. a missing queue) becomes a clear error instead of an unhandled event. */
const channel = async <T>(conn: amqp.ChannelModel, work: (ch: amqp.ConfirmChannel) => Promise<T>): Promise<T> => {
  const ch = await conn.createConfirmChannel()
  ch.on('error', () => {})
  try {
    return await work(ch)
  } catch (error) {
    if (/NOT_FOUND/.test(errorMessage(error))) {
      const queue = /queue '([^']+)'/.exec(errorMessage(error))?.[1]
      throw new UserError(`RabbitMQ queue ${queue ? `"${queue}" ` : ''}does not exist`, 'mm up applies the topology (queues and their .dlq twins)')
    }
    throw error
  } finally {
    await ch.close().catch(() => {})
  }
}

/** Ready messages of a queue (unacknowledged ones held by a consumer are not counted). */
export const rabbitCount = (conn: amqp.ChannelModel, queue: string): Promise<number> => channel(conn, async (ch) => (await ch.checkQueue(queue)).messageCount)

export const describeRabbit = (entry: DlqEntry, index: number, msg: amqp.GetMessage): DlqMessage =>
  describe({
    broker: 'rabbitmq',
    id: String(index),
    source: entry.source,
    key: msg.properties.messageId === undefined || msg.properties.messageId === null ? null : String(msg.properties.messageId),
    body: msg.content,
    rawHeaders: msg.properties.headers as Record<string, unknown> | undefined,
    timestamp:
      typeof msg.properties.timestamp === 'number'
        ? new Date(msg.properties.timestamp * (msg.properties.timestamp < 1e12 ? 1000 : 1)).toISOString()
        : undefined,
  })

/**
 * Reads the first `n` messages without consuming them: basic.get without auto-ack, then one
 * nack-all with requeue. RabbitMQ puts requeued messages back at their original positions, so
 * order is kept; they come back flagged `redelivered`, and while held they are not counted as
 * ready (a concurrent `list` may see fewer for that moment).
 */
export const peekRabbit = (conn: amqp.ChannelModel, entry: DlqEntry, n: number): Promise<DlqMessage[]> =>
  channel(conn, async (ch) => {
    const out: DlqMessage[] = []
    try {
      while (out.length < n) {
        const msg = await ch.get(entry.name, {noAck: false})
        if (!msg) break
        out.push(describeRabbit(entry, out.length + 1, msg))
      }
    } finally {
      if (out.length > 0) ch.nackAll(true)
    }
    return out
  })

/** Every AMQP property of the message, as publish options (headers replaced by the caller). */
const publishOptions = (p: amqp.MessageProperties): amqp.Options.Publish =>
  Object.fromEntries(
    Object.entries({
      contentType: p.contentType,
      contentEncoding: p.contentEncoding,
      headers: p.headers,
      deliveryMode: p.deliveryMode,
      priority: p.priority,
      correlationId: p.correlationId,
      replyTo: p.replyTo,
      expiration: p.expiration,
      messageId: p.messageId,
      timestamp: p.timestamp,
      type: p.type,
      userId: p.userId,
      appId: p.appId,
    }).filter(([, v]) => v !== undefined && v !== null),
  ) as amqp.Options.Publish

/**
 * Replays the first `snapshot` messages (the count when the replay started: later arrivals queue
 * behind them and are never reached) straight to the source queue through the default exchange,
 * so only the consumer that failed sees them again (republishing to the original exchange would
 * also copy them into every other queue bound to it). Published `mandatory` on a confirm channel;
 * the DLQ message is acked only after the broker confirmed the republish and did not return it.
 * An interruption between confirm and ack redelivers that message to the DLQ: a later replay may
 * then publish it twice, which consumers absorb by deduplicating on message_id/event_id.
 * Messages at --max-replays are republished to the tail of the DLQ itself, unchanged.
 */
export const replayRabbit = (conn: amqp.ChannelModel, entry: DlqEntry, snapshot: number, opts: ReplayOptions): Promise<ReplayCounts> =>
  channel(conn, async (ch) => {
    const counts: ReplayCounts = {replayed: 0, skipped: 0, destinations: {}, interrupted: false}
    await ch.checkQueue(entry.source)
    const returned: string[] = []
    ch.on('return', (msg: amqp.Message) => returned.push(msg.fields.routingKey))
    const limiter = createRateLimiter(opts.rate)
    const batchSize = batchSizeFor(limiter)
    const total = Math.min(snapshot, opts.limit ?? Number.POSITIVE_INFINITY)
    let held: {msg: amqp.GetMessage; skipped: boolean}[] = []
    let started = Date.now()
    const flush = async () => {
      if (held.length === 0) return
      const last = held.at(-1)!.msg
      try {
        await ch.waitForConfirms()
      } catch (error) {
        ch.nack(last, true, true)
        throw new Error(`RabbitMQ did not confirm the replayed messages (${errorMessage(error)}); they stay in ${entry.name}`, {cause: error})
      }
      if (returned.length > 0) {
        ch.nack(last, true, true)
        throw new Error(`RabbitMQ could not route replayed messages to "${returned[0]}"; they stay in ${entry.name}`)
      }
      ch.ack(last, true)
      for (const h of held) {
        if (h.skipped) counts.skipped++
        else {
          counts.replayed++
          counts.destinations[entry.source] = (counts.destinations[entry.source] ?? 0) + 1
        }
      }
      held = []
      started = Date.now()
      opts.onProgress?.({replayed: counts.replayed, skipped: counts.skipped})
    }
    for (let i = 0; i < total; i++) {
      if (opts.signal?.aborted) break
      await limiter.wait(opts.signal)
      if (opts.signal?.aborted) break
      const msg = await ch.get(entry.name, {noAck: false})
      if (!msg) break // someone else drained it
      const count = replayCountOf(msg.properties.headers?.[REPLAY_COUNT_HEADER])
      const skipped = count >= opts.maxReplays
      const options = publishOptions(msg.properties)
      if (skipped) ch.publish('', entry.name, msg.content, {...options, mandatory: true})
      else ch.publish('', entry.source, msg.content, {...options, headers: withReplayCount<unknown>(msg.properties.headers, count + 1), mandatory: true})
      held.push({msg, skipped})
      if (held.length >= batchSize || Date.now() - started >= 1000) await flush()
    }
    await flush()
    counts.interrupted = Boolean(opts.signal?.aborted)
    return counts
  })

/** Deletes every ready message of the DLQ; returns how many. */
export const purgeRabbit = (conn: amqp.ChannelModel, entry: DlqEntry): Promise<number> =>
  channel(conn, async (ch) => (await ch.purgeQueue(entry.name)).messageCount)
