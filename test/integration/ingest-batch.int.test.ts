import {randomUUID} from 'node:crypto'

import amqp from 'amqplib'
import {Redis} from 'ioredis'
import pg from 'pg'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {AggregateOverflowError, recordPulses} from '../../services/ingest/aggregate.js'
import {type PulseConsumerDeps, startPulseConsumer} from '../../services/ingest/consumer.js'
import {flushNow} from '../../services/ingest/flush.js'
import {connectRabbit} from '../../services/shared/rabbit.js'
import {silentLogger} from '../../src/lib/logger.js'
import {eventually, startTestPlatform, type TestPlatform} from './harness.js'

type Key = [string, string, string]
interface Msg {
  body: string
  messageId?: string
}
interface Feed {
  type: string
  id?: string
  outcome: string
  detail?: string
}

/**
 * The batching pulse consumer (services/ingest/FLUSH.md, "The consumer") against real RabbitMQ and
 * Redis: mixed batches, duplicates within and across batches, a consumer killed mid-stream, Redis
 * failures that fall back to one message at a time. Totals are checked against an oracle summed
 * here with BigInt from the amounts published.
 */
describe('ingest consumer batches', () => {
  let p: TestPlatform
  let redis: Redis
  let pool: pg.Pool
  let pub: amqp.ChannelModel
  let ch: amqp.ConfirmChannel
  const queue = () => p.ns('pulses')
  const flush = () => flushNow({pool, redis, ns: p.ns, logger: silentLogger})

  /** A consumer of its own (connection, counters, feed). `stop` aborts it; `kill` drops its connection. */
  const consumer = async (opts: Partial<PulseConsumerDeps> = {}) => {
    const link = await connectRabbit(p.endpoints.rabbitmq, silentLogger)
    const stats = {handled: 0, failed: 0, retried: 0, deadLettered: 0}
    const feed: Feed[] = []
    const ac = new AbortController()
    const started = await startPulseConsumer(
      {rabbit: link, redis, ns: p.ns, backoffMs: [10, 20], logger: silentLogger, stats, feed: (e) => feed.push(e), flush, ...opts},
      ac.signal,
    )
    const stop = async () => {
      ac.abort()
      await started.stopped
      await link.close()
    }
    // kill: the connection goes, and the link does not reconnect (a crashed consumer).
    return {stats, feed, ac, stop, kill: () => link.close()}
  }
  const settled = (c: {stats: {handled: number; failed: number}}, n: number) =>
    eventually(async () => c.stats.handled + c.stats.failed >= n, {timeoutMs: 30_000, what: `${n} messages settled`})
  const publish = async (messages: Msg[]) => {
    for (const m of messages) ch.sendToQueue(queue(), Buffer.from(m.body), m.messageId === undefined ? {} : {messageId: m.messageId})
    await ch.waitForConfirms()
  }
  const queued = async () => (await ch.checkQueue(queue())).messageCount
  /** The live totals in Redis of the keys whose tenant starts with `tag`, read from the documented layout. */
  const totals = async (tag: string): Promise<Map<string, bigint>> => {
    const hash = await redis.hgetall(p.ns('ingest:agg'))
    const out = new Map<string, bigint>()
    for (const [field, value] of Object.entries(hash)) {
      const id = field.slice(1)
      if (!(JSON.parse(id) as Key)[0].startsWith(tag)) continue
      out.set(id, (out.get(id) ?? 0n) + (field[0] === 'w' ? BigInt(value) * 10n ** 12n : BigInt(value)))
    }
    return out
  }
  const dlqOf = async (tag: string): Promise<amqp.GetMessage[]> => {
    const got: amqp.GetMessage[] = []
    for (let m = await ch.get(p.ns('pulses.dlq'), {noAck: true}); m; m = await ch.get(p.ns('pulses.dlq'), {noAck: true})) got.push(m)
    return got.filter((m) => String(m.properties.messageId).startsWith(tag))
  }
  const handledFeed = (feed: Feed[]) =>
    feed
      .filter((e) => e.outcome === 'handled')
      .map(
        (e) =>
          /^(\d+) pulses \((\d+) duplicate\)$/
            .exec(e.detail ?? '')!
            .slice(1)
            .map(Number) as [number, number],
      )

  beforeAll(async () => {
    p = await startTestPlatform({label: 'ingest-batch', runners: []})
    redis = new Redis(p.endpoints.redis)
    pool = new pg.Pool({connectionString: p.endpoints.postgres, max: 2})
    pub = await amqp.connect(p.endpoints.rabbitmq)
    ch = await pub.createConfirmChannel()
  })
  afterAll(async () => {
    await pub?.close()
    await pool?.end()
    redis?.disconnect()
    await p?.stop()
  })

  it('counts the valid pulses of a mixed batch exactly and dead-letters the invalid ones with their reason', async () => {
    const tag = `mix-${randomUUID()}`
    const keys: Key[] = [0, 1, 2, 3, 4].map((i) => [`${tag}|${i}`, i % 2 ? 'sku:ü' : 's', 'u'])
    const amounts: [string, bigint][] = [
      ['0.1', 100_000_000_000n],
      ['0.000000000001', 1n],
      ['1e-7', 100_000n],
      ['2.5', 2_500_000_000_000n],
      ['123456789.123456789012', 123456789_123456789012n],
    ]
    const bad: [string, string][] = [
      ['not json', 'body is not JSON'],
      ['{"product_sku":"s","use_unity":"u","used_amount":1}', 'tenant is missing'],
      [pulseBody([tag, 's', 'u'], '-1'), 'used_amount -1 is negative'],
      [pulseBody([tag, 's', 'u'], '"1"'), 'used_amount must be a JSON number (got "1")'],
      [pulseBody([tag, 's', 'u'], '0.0000000000001'), 'used_amount 0.0000000000001 has more than 12 decimal places'],
    ]
    const oracle = new Map<string, bigint>()
    const messages: Msg[] = []
    const reasons = new Map<string, [string, string]>()
    for (let i = 0; i < 400; i++) {
      if (i % 8 === 3) {
        const b = bad[(i >> 3) % bad.length]!
        reasons.set(`${tag}-${i}`, b)
        messages.push({body: b[0], messageId: `${tag}-${i}`})
        continue
      }
      const key = keys[i % keys.length]!
      const [text, units] = amounts[i % amounts.length]!
      oracle.set(JSON.stringify(key), (oracle.get(JSON.stringify(key)) ?? 0n) + units)
      messages.push({body: pulseBody(key, text), messageId: `${tag}-${i}`})
    }
    await publish(messages) // preloaded: the consumer gets them in big batches
    const c = await consumer()
    await settled(c, messages.length)
    await c.stop()

    expect(await totals(tag)).toEqual(oracle)
    const dead = await dlqOf(tag)
    expect(dead).toHaveLength(reasons.size)
    for (const m of dead) {
      const [body, reason] = reasons.get(m.properties.messageId as string)!
      expect(m.content.toString()).toBe(body) // byte for byte
      expect(m.properties.headers).toMatchObject({
        'x-original-queue': queue(),
        'x-error-class': 'PoisonMessageError',
        'x-error-message': reason,
        'x-attempts': 1,
      })
      expect(Date.parse(m.properties.headers?.['x-failed-at'] as string)).toBeGreaterThan(Date.now() - 60_000)
    }
    expect(c.stats).toEqual({handled: 400 - reasons.size, failed: reasons.size, retried: 0, deadLettered: reasons.size})
    // One feed entry per batch of pulses, one per dead letter.
    const batches = handledFeed(c.feed)
    expect(batches.reduce((a, [n]) => a + n, 0)).toBe(400 - reasons.size)
    expect(batches.length).toBeLessThan(400 - reasons.size)
    expect(
      c.feed
        .filter((e) => e.outcome === 'dead-lettered')
        .map((e) => e.id)
        .sort(),
    ).toEqual([...reasons.keys()].sort())
    expect(await queued()).toBe(0) // every message acked: nothing came back to the queue on close
  })

  it('records a message_id once within one script call, and refuses a whole key on overflow, leaving it and its ids untouched', async () => {
    const tag = `call-${randomUUID()}`
    const a: Key = [`${tag}|a`, 's', 'u']
    const b: Key = [`${tag}|b`, 's', 'u']
    const pulse = (key: Key, units: bigint) => ({tenant: key[0], product_sku: key[1], use_unity: key[2], units})
    const small = await recordPulses(redis, p.ns, [
      {pulse: pulse(a, 300_000_000_000n), messageId: `${tag}-1`},
      {pulse: pulse(a, 300_000_000_000n), messageId: `${tag}-1`},
      {pulse: pulse(a, 800_000_000_000n), messageId: `${tag}-2`},
      {pulse: pulse(b, 1n)},
      {pulse: pulse(b, 1n)},
    ])
    expect(small).toEqual({outcomes: ['counted', 'duplicate', 'counted', 'counted', 'counted']})
    const max = (2n ** 63n - 1n) * 10n ** 12n
    // Whole parts of 2^40 and more take the one-pulse-at-a-time script: same rules.
    const big = await recordPulses(redis, p.ns, [
      {pulse: pulse(b, max), messageId: `${tag}-3`},
      {pulse: pulse(b, max), messageId: `${tag}-3`},
    ])
    expect(big).toEqual({outcomes: ['counted', 'duplicate']})
    expect(await totals(tag)).toEqual(
      new Map([
        [JSON.stringify(a), 1_100_000_000_000n],
        [JSON.stringify(b), max + 2n],
      ]),
    )
    // b is at the limit: a carry into it must fail for all of b's pulses, and only for them.
    const before = await totals(tag)
    const over = await recordPulses(redis, p.ns, [
      {pulse: pulse(b, 999_999_999_999n), messageId: `${tag}-4`},
      {pulse: pulse(a, 1n), messageId: `${tag}-5`},
      {pulse: pulse(b, 1n), messageId: `${tag}-6`},
    ])
    expect(over.outcomes).toEqual([undefined, 'counted', undefined])
    expect(over.error).toBeInstanceOf(AggregateOverflowError)
    expect(await totals(tag)).toEqual(new Map([...before, [JSON.stringify(a), before.get(JSON.stringify(a))! + 1n]]))
    expect(await redis.exists(p.ns(`ingest:seen:${tag}-4`), p.ns(`ingest:seen:${tag}-6`))).toBe(0)
    await redis.hdel(p.ns('ingest:agg'), `w${JSON.stringify(b)}`, `f${JSON.stringify(b)}`) // leave no key at the limit for the next tests
  })

  it('counts duplicates within one batch and across batches once', async () => {
    const tag = `dup-${randomUUID()}`
    const key: Key = [`${tag}|t`, 's', 'u']
    const first: Msg[] = []
    for (let i = 0; i < 100; i++) first.push({body: pulseBody(key, '0.01'), messageId: `${tag}-${i}`}, {body: pulseBody(key, '0.01'), messageId: `${tag}-${i}`})
    for (let i = 0; i < 50; i++) first.push({body: pulseBody(key, '0.000001')}) // no message_id: each counts
    await publish(first)
    const c = await consumer()
    await settled(c, first.length)
    // Again, after they were acked: other batches, same ids.
    await publish(Array.from({length: 100}, (_, i) => ({body: pulseBody(key, '0.01'), messageId: `${tag}-${i}`})))
    await settled(c, first.length + 100)
    await c.stop()
    expect(await totals(tag)).toEqual(new Map([[JSON.stringify(key), 100n * 10_000_000_000n + 50n * 1_000_000n]]))
    expect(c.stats.handled).toBe(350)
    expect(handledFeed(c.feed).reduce((s, [, d]) => s + d, 0)).toBe(200)
    await flush()
    const {rows} = await pool.query<{a: string}>('SELECT used_amount::text a FROM ingest.pulses WHERE tenant = $1', [key[0]])
    expect(rows).toEqual([{a: '1.000050000000'}])
  })

  describe('a consumer killed mid-stream, then restarted, leaves exact totals', () => {
    const stream = (tag: string, n: number) => {
      const keys: Key[] = Array.from({length: 7}, (_, i) => [`${tag}|${i}`, `sku-${i % 3}`, 'kWh'])
      const oracle = new Map<string, bigint>()
      const messages = Array.from({length: n}, (_, i) => {
        const key = keys[i % keys.length]!
        const units = BigInt(1 + ((i * 7919) % 1_000_003)) * 1_000_001n // up to ~1 unit, odd digits
        oracle.set(JSON.stringify(key), (oracle.get(JSON.stringify(key)) ?? 0n) + units)
        return {body: pulseBody(key, toDecimal(units)), messageId: `${tag}-${i}`}
      })
      return {messages, oracle}
    }

    it('crash between the Redis write and the ack: the redelivered batch is skipped, not counted twice', async () => {
      const tag = `crash-${randomUUID()}`
      const {messages, oracle} = stream(tag, 3000)
      await publish(messages)
      let batches = 0
      let crashed = 0
      const a = await consumer({
        prefetch: 200,
        maxBatch: 100,
        beforeAck: async (size) => {
          if (++batches !== 3) return
          crashed = size
          await a.kill() // written to Redis, never acked
        },
      })
      await eventually(async () => crashed > 0 && (await queued()) > 0, {what: 'the crash'})
      await a.stop()
      const b = await consumer()
      await settled(b, 3000 - a.stats.handled)
      await b.stop()
      expect(await totals(tag)).toEqual(oracle)
      expect(handledFeed(b.feed).reduce((s, [, d]) => s + d, 0)).toBe(crashed) // exactly the unacked batch came back, skipped
      expect(await queued()).toBe(0)
    })

    it('connection dropped at an arbitrary moment: nothing lost, nothing counted twice', async () => {
      const tag = `drop-${randomUUID()}`
      const {messages, oracle} = stream(tag, 12_000)
      await publish(messages)
      const a = await consumer()
      await eventually(async () => a.stats.handled >= 1500, {intervalMs: 5, what: '1500 handled'})
      await a.kill() // whatever is in flight: before, during or after its Redis write or its ack
      await a.stop()
      expect(a.stats.handled).toBeLessThan(12_000)
      const b = await consumer()
      await settled(b, 12_000 - a.stats.handled)
      await b.stop()
      expect(await totals(tag)).toEqual(oracle)
      expect(await queued()).toBe(0)
    })

    it('stopped (abort) mid-stream: the batch in flight is acked, the rest requeued, nothing handled twice', async () => {
      const tag = `abort-${randomUUID()}`
      const {messages, oracle} = stream(tag, 6000)
      await publish(messages)
      let batches = 0
      const a = await consumer({
        beforeAck: () => {
          if (++batches === 3) a.ac.abort() // the runner's signal, while a batch is between Redis and its ack
        },
      })
      await eventually(async () => a.ac.signal.aborted, {what: 'the abort'})
      await a.stop()
      expect(a.stats.handled).toBeGreaterThan(0)
      expect(a.stats.handled).toBeLessThan(6000)
      const b = await consumer()
      await settled(b, 6000 - a.stats.handled)
      await b.stop()
      expect(a.stats.handled + b.stats.handled).toBe(6000)
      expect(handledFeed(b.feed).reduce((s, [, d]) => s + d, 0)).toBe(0)
      expect(await totals(tag)).toEqual(oracle)
      expect(await queued()).toBe(0)
    })
  })

  it('a Redis failure retries the batch with backoff, then one message at a time: only the failing ones are dead-lettered', async () => {
    const tag = `fail-${randomUUID()}`
    const good: Key = [`${tag}|good`, 's', 'u']
    const broken: Key = [`${tag}|broken`, 's', 'u']
    const field = `f${JSON.stringify(broken)}`
    await redis.hset(p.ns('ingest:agg'), field, 'not a number') // every increment of this key fails in Redis
    try {
      const messages: Msg[] = []
      for (let i = 0; i < 40; i++) messages.push({body: pulseBody(i % 8 === 0 ? broken : good, '0.5'), messageId: `${tag}-${i}`})
      await publish(messages)
      const c = await consumer({backoffMs: [10, 20]})
      await settled(c, 40)
      await c.stop()
      const dead = await dlqOf(tag)
      expect(dead.map((m) => m.properties.messageId).sort()).toEqual(
        messages
          .filter((m) => m.body.includes('broken'))
          .map((m) => m.messageId)
          .sort(),
      )
      for (const m of dead) {
        expect(m.properties.headers?.['x-error-message']).toMatch(/not an integer/)
        expect(m.properties.headers?.['x-attempts']).toBe(4) // the batch 3 times (2 backoffs), then alone
      }
      expect(c.stats).toMatchObject({handled: 35, failed: 5, deadLettered: 5})
      expect(c.stats.retried).toBeGreaterThanOrEqual(10)
      const [w, f] = await redis.hmget(p.ns('ingest:agg'), `w${JSON.stringify(good)}`, `f${JSON.stringify(good)}`)
      expect(BigInt(w!) * 10n ** 12n + BigInt(f!)).toBe(35n * 500_000_000_000n)
      expect(await redis.exists(...messages.filter((m) => m.body.includes('broken')).map((m) => p.ns(`ingest:seen:${m.messageId}`)))).toBe(0)
      expect(await queued()).toBe(0)
    } finally {
      await redis.hdel(p.ns('ingest:agg'), field, `w${JSON.stringify(broken)}`)
    }
  })
})

/** Test-side helpers, independent of the code under test. */
const pulseBody = (key: Key, amountText: string): string =>
  `{"tenant":${JSON.stringify(key[0])},"product_sku":${JSON.stringify(key[1])},"use_unity":${JSON.stringify(key[2])},"used_amount":${amountText}}`

const toDecimal = (units: bigint): string => {
  const frac = (units % 10n ** 12n).toString().padStart(12, '0').replace(/0+$/, '')
  return `${units / 10n ** 12n}${frac ? `.${frac}` : ''}`
}
