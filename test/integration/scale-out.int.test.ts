import {randomUUID} from 'node:crypto'

import {Kafka, logLevel} from 'kafkajs'
import pg from 'pg'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {createProductRunner} from '../../services/product/index.js'
import {startPlatform, type PlatformHost} from '../../src/runtime/host.js'
import {eventually, http, startTestPlatform, TEST_DEPS, type TestPlatform} from './harness.js'

const ORDERS = 120

const orderCreated = (productId: string) => {
  const id = randomUUID()
  const now = new Date().toISOString()
  const envelope = {
    event_id: randomUUID(),
    type: 'order.created',
    occurred_at: now,
    aggregate_id: id,
    aggregate_version: 1,
    data: {
      id,
      customer_id: randomUUID(),
      status: 'PENDING',
      total_cents: 100,
      items: [{product_id: productId, quantity: 1, unit_price_cents: 100}],
      created_at: now,
      updated_at: now,
      paid_at: null,
      canceled_at: null,
      cancel_reason: null,
    },
  }
  return {key: id, value: JSON.stringify(envelope), headers: {'event-type': 'order.created', 'event-id': envelope.event_id}}
}

/**
 * `mm run product` twice: two instances of one component side by side, on the same servers. The
 * consumer group shares the partitions, every order is reserved exactly once, and the session
 * lock keeps one outbox relay active, so each event is published once.
 */
describe('two instances of a component side by side', () => {
  let a: TestPlatform
  let b: PlatformHost
  let kafka: Kafka
  let db: pg.Client

  beforeAll(async () => {
    a = await startTestPlatform({label: 'scale', runners: [createProductRunner(TEST_DEPS)]})
    b = await startPlatform({
      config: a.config,
      endpoints: a.endpoints,
      logger: a.logger.child('second'),
      runners: [createProductRunner(TEST_DEPS)],
      ns: a.ns,
      port: 0,
    })
    kafka = new Kafka({clientId: 'it-scale', brokers: a.endpoints.kafka, logLevel: logLevel.NOTHING})
    db = new pg.Client({connectionString: a.endpoints.postgres})
    await db.connect()
  })
  afterAll(async () => {
    await db?.end()
    await b?.stop()
    await a?.stop()
  })

  it('shares the work, reserves every order once and publishes each event once', async () => {
    const products: string[] = []
    for (let i = 0; i < 3; i++) {
      const res = await http(a.url, 'POST', '/products', {sku: `scale-${randomUUID().slice(0, 8)}`, name: `p${i}`, price_cents: 100, stock: 1000})
      expect(res.status).toBe(201)
      products.push(res.body.id)
    }
    const producer = kafka.producer()
    await producer.connect()
    await producer.send({topic: a.ns('order.created'), messages: Array.from({length: ORDERS}, (_, i) => orderCreated(products[i % products.length]!))})
    await producer.disconnect()

    // Every order reserved exactly once: the stock went down by exactly the number of orders.
    await eventually(
      async () => {
        const {rows} = await db.query<{n: number}>('SELECT (3000 - sum(stock))::int AS n FROM product.products')
        return rows[0]!.n === ORDERS
      },
      {timeoutMs: 60_000, what: `${ORDERS} reservations`},
    )
    const {rows: reservations} = await db.query<{n: number}>('SELECT count(*)::int AS n FROM product.reservations')
    expect(reservations[0]!.n).toBe(ORDERS)

    // Both instances did part of it, and together exactly one handling per message.
    const handled = [a.host, b].map((h) => h.supervisor.reports()[0]!.counters.handled)
    expect(
      handled.every((n) => n > 0),
      `handled per instance: ${handled}`,
    ).toBe(true)
    expect(handled[0]! + handled[1]!).toBe(ORDERS)

    // Each stock.reserved published once, although both instances run a relay.
    await eventually(async () => (await db.query<{n: number}>('SELECT count(*)::int AS n FROM product.outbox WHERE published_at IS NULL')).rows[0]!.n === 0, {
      timeoutMs: 30_000,
      what: 'outbox drained',
    })
    const admin = kafka.admin()
    await admin.connect()
    const offsets = await admin.fetchTopicOffsets(a.ns('stock.reserved'))
    await admin.disconnect()
    expect(offsets.reduce((sum, p) => sum + Number(p.high), 0)).toBe(ORDERS)
    const {rows: locks} = await db.query<{n: number}>(
      "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND objid = (hashtext('mm.outbox.product')::bigint & 4294967295)::oid",
    )
    expect(locks[0]!.n).toBe(1)
  })
})
