import {randomUUID} from 'node:crypto'

import {Kafka, logLevel, type Producer} from 'kafkajs'
import pg from 'pg'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {createCustomerRunner} from '../../services/customer/index.js'
import {createProductRunner} from '../../services/product/index.js'
import {collectTopics, eventually, header, http, json, startTestPlatform, TEST_DEPS, type TestPlatform} from './harness.js'
import {uniqueName} from './isolation.js'

/** An order event envelope as the order component publishes it (data = OrderData). */
const orderEnvelope = (type: 'order.created' | 'order.canceled', orderId: string, items: {product_id: string; quantity: number}[], version = 1) => {
  const now = new Date().toISOString()
  return {
    event_id: randomUUID(),
    type,
    occurred_at: now,
    aggregate_id: orderId,
    aggregate_version: version,
    data: {
      id: orderId,
      customer_id: randomUUID(),
      status: type === 'order.created' ? 'PENDING' : 'CANCELED',
      total_cents: items.reduce((sum, i) => sum + i.quantity * 100, 0),
      items: items.map((i) => ({...i, unit_price_cents: 100})),
      created_at: now,
      updated_at: now,
      paid_at: null,
      canceled_at: type === 'order.canceled' ? now : null,
      cancel_reason: type === 'order.canceled' ? 'customer request' : null,
    },
  }
}

describe('product component (PLATFORM.md §3.2)', () => {
  let p: TestPlatform
  let db: pg.Client
  let kafka: Kafka
  let producer: Producer
  let collector: Awaited<ReturnType<typeof collectTopics>>
  const watched = ['product.created', 'product.updated', 'stock.reserved', 'stock.rejected', 'stock.released']

  const newProduct = async (stock: number, price_cents = 1000) => {
    const res = await http(p.url, 'POST', '/products', {sku: uniqueName('sku'), name: 'Café 500g', price_cents, stock})
    expect(res.status).toBe(201)
    return res.body as {id: string; sku: string; stock: number}
  }
  const stockOf = async (id: string): Promise<number> => (await http(p.url, 'GET', `/products/${id}`)).body.stock
  const counters = () => p.host.supervisor.reports().find((r) => r.name === 'product')!.counters
  const consumed = () => counters().handled + counters().deadLettered
  const send = async (envelope: ReturnType<typeof orderEnvelope>) => {
    await producer.send({
      topic: p.ns(envelope.type),
      messages: [{key: envelope.aggregate_id, value: JSON.stringify(envelope), headers: {'event-type': envelope.type, 'event-id': envelope.event_id}}],
    })
  }
  /** Sends the envelopes and waits until the product consumer has handled all of them, none dead-lettered. */
  const deliver = async (...envelopes: ReturnType<typeof orderEnvelope>[]) => {
    const before = counters()
    for (const e of envelopes) await send(e)
    await eventually(async () => consumed() >= before.handled + before.deadLettered + envelopes.length, {what: `${envelopes.length} order event(s) consumed`})
    expect(counters()).toMatchObject({deadLettered: before.deadLettered, retried: before.retried})
  }
  const eventsFor = (type: string, key: string) => collector.seen.filter((s) => s.topic === p.ns(type) && s.message.key?.toString() === key)

  beforeAll(async () => {
    p = await startTestPlatform({label: 'product', runners: [createCustomerRunner(TEST_DEPS), createProductRunner(TEST_DEPS)]})
    db = new pg.Client({connectionString: p.endpoints.postgres})
    await db.connect()
    kafka = new Kafka({clientId: 'it-product', brokers: p.endpoints.kafka, logLevel: logLevel.NOTHING})
    producer = kafka.producer({allowAutoTopicCreation: false})
    await producer.connect()
    collector = await collectTopics(kafka, [...watched.map((t) => p.ns(t)), p.ns('order.created.dlq')])
  })

  afterAll(async () => {
    await collector?.consumer.disconnect()
    await producer?.disconnect()
    await db?.end()
    await p?.stop()
  })

  describe('HTTP API', () => {
    it('POST /products creates a product: 201 with its full state', async () => {
      const sku = uniqueName('SKU')
      const res = await http(p.url, 'POST', '/products', {sku, name: 'Arroz 1kg', price_cents: 799, stock: 12})
      expect(res.status).toBe(201)
      expect(res.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        sku,
        name: 'Arroz 1kg',
        price_cents: 799,
        stock: 12,
        created_at: expect.any(String),
        updated_at: expect.any(String),
      })
      expect((await http(p.url, 'GET', `/products/${res.body.id}`)).body).toEqual(res.body)
    })

    it('POST /products with a taken sku is a 409', async () => {
      const a = await newProduct(1)
      const res = await http(p.url, 'POST', '/products', {sku: a.sku, name: 'other', price_cents: 1, stock: 1})
      expect(res.status).toBe(409)
      expect(res.body.error).toMatchObject({code: 'conflict', message: expect.stringContaining(a.sku)})
    })

    it.each([
      ['negative price', {price_cents: -1}, 'price_cents'],
      ['fractional price', {price_cents: 1.5}, 'price_cents'],
      ['negative stock', {stock: -3}, 'stock'],
      ['missing sku', {sku: undefined}, 'sku'],
      ['blank name', {name: '  '}, 'name'],
    ])('POST /products with %s is a 400 naming the field', async (_what, patch, field) => {
      const body = {sku: uniqueName('s'), name: 'n', price_cents: 1, stock: 1, ...patch}
      const res = await http(p.url, 'POST', '/products', body)
      expect(res.status).toBe(400)
      expect(res.body.error.code).toBe('invalid_request')
      expect(res.body.error.message).toContain(field)
    })

    it('GET /products lists newest first with limit/offset; bad paging is a 400', async () => {
      const a = await newProduct(1)
      const b = await newProduct(2)
      const page = await http(p.url, 'GET', '/products?limit=2')
      expect(page.status).toBe(200)
      expect(page.body.items.map((x: {id: string}) => x.id)).toEqual([b.id, a.id])
      expect(page.body).toMatchObject({limit: 2, offset: 0, total: expect.any(Number)})
      expect((await http(p.url, 'GET', '/products?limit=1&offset=1')).body.items[0].id).toBe(a.id)
      expect((await http(p.url, 'GET', '/products?limit=-1')).status).toBe(400)
    })

    it('GET /products?ids= answers the existing ones in the order asked, leaving out unknown and malformed ids', async () => {
      const a = await newProduct(1)
      const b = await newProduct(2)
      const res = await http(p.url, 'GET', `/products?ids=${b.id},${randomUUID()},nope,${a.id.toUpperCase()}`)
      expect(res.status).toBe(200)
      expect(res.body.items.map((x: {id: string}) => x.id)).toEqual([b.id, a.id])
      expect(res.body.total).toBe(2)
      const tooMany = Array.from({length: 101}, () => randomUUID()).join(',')
      expect((await http(p.url, 'GET', `/products?ids=${tooMany}`)).status).toBe(400)
    })

    it('GET /products/:id is a 404 for unknown and non-uuid ids', async () => {
      for (const id of [randomUUID(), '123']) {
        const res = await http(p.url, 'GET', `/products/${id}`)
        expect(res.status).toBe(404)
        expect(res.body.error).toEqual({code: 'not_found', message: `product ${id} not found`})
      }
    })

    it('PATCH /products/:id changes name, price and stock; never a negative stock', async () => {
      const a = await newProduct(5)
      const res = await http(p.url, 'PATCH', `/products/${a.id}`, {name: 'Novo', price_cents: 250, stock: 0})
      expect(res.status).toBe(200)
      expect(res.body).toMatchObject({id: a.id, sku: a.sku, name: 'Novo', price_cents: 250, stock: 0})
      const neg = await http(p.url, 'PATCH', `/products/${a.id}`, {stock: -1})
      expect(neg.status).toBe(400)
      expect(neg.body.error.message).toContain('stock')
      expect((await http(p.url, 'PATCH', `/products/${a.id}`, {})).status).toBe(400)
      expect((await http(p.url, 'PATCH', `/products/${randomUUID()}`, {stock: 1})).status).toBe(404)
      expect((await http(p.url, 'PATCH', `/products/zzz`, {stock: 1})).status).toBe(404)
      expect(await stockOf(a.id)).toBe(0)
    })

    it('emits product.created and product.updated with full state, version and headers', async () => {
      const a = await newProduct(5)
      await http(p.url, 'PATCH', `/products/${a.id}`, {price_cents: 1234})
      const created = await eventually(async () => eventsFor('product.created', a.id)[0], {what: 'product.created'})
      const updated = await eventually(async () => eventsFor('product.updated', a.id)[0], {what: 'product.updated'})
      expect(json(created.message)).toMatchObject({
        type: 'product.created',
        aggregate_id: a.id,
        aggregate_version: 1,
        data: {id: a.id, sku: a.sku, stock: 5, price_cents: 1000},
      })
      expect(json(updated.message)).toMatchObject({
        type: 'product.updated',
        aggregate_id: a.id,
        aggregate_version: 2,
        data: {id: a.id, sku: a.sku, stock: 5, price_cents: 1234},
      })
      for (const m of [created.message, updated.message]) {
        expect(header(m, 'event-type')).toBe(json(m).type)
        expect(header(m, 'event-id')).toBe(json(m).event_id)
      }
    })
  })

  describe('stock reservations from order events', () => {
    it('order.created reserves every item: stock goes down, stock.reserved and product.updated are emitted', async () => {
      const a = await newProduct(10)
      const b = await newProduct(5)
      const orderId = randomUUID()
      await deliver(
        orderEnvelope('order.created', orderId, [
          {product_id: a.id, quantity: 3},
          {product_id: b.id, quantity: 2},
        ]),
      )
      expect([await stockOf(a.id), await stockOf(b.id)]).toEqual([7, 3])
      const reserved = await eventually(async () => eventsFor('stock.reserved', orderId)[0], {what: 'stock.reserved'})
      expect(json(reserved.message)).toMatchObject({type: 'stock.reserved', aggregate_id: orderId, data: {order_id: orderId}})
      expect(json(reserved.message).data.items).toEqual([
        {product_id: a.id, quantity: 3},
        {product_id: b.id, quantity: 2},
      ])
      expect(header(reserved.message, 'event-type')).toBe('stock.reserved')
      const stocks = await eventually(async () => {
        const got = [a.id, b.id].map((id) => eventsFor('product.updated', id).map((s) => json(s.message).data.stock))
        return got.every((g) => g.length === 1) && got
      })
      expect(stocks).toEqual([[7], [3]])
      const {rows} = await db.query('SELECT product_id, quantity, released_at FROM product.reservations WHERE order_id = $1 ORDER BY quantity', [orderId])
      expect(rows).toEqual([
        {product_id: b.id, quantity: 2, released_at: null},
        {product_id: a.id, quantity: 3, released_at: null},
      ])
    })

    it('is all or nothing: one line short of stock changes nothing and emits stock.rejected', async () => {
      const a = await newProduct(10)
      const b = await newProduct(1)
      const orderId = randomUUID()
      await deliver(
        orderEnvelope('order.created', orderId, [
          {product_id: a.id, quantity: 4},
          {product_id: b.id, quantity: 2},
        ]),
      )
      expect([await stockOf(a.id), await stockOf(b.id)]).toEqual([10, 1])
      const rejected = await eventually(async () => eventsFor('stock.rejected', orderId)[0], {what: 'stock.rejected'})
      expect(json(rejected.message).data).toEqual({order_id: orderId, product_id: b.id, reason: 'insufficient_stock'})
      expect((await db.query('SELECT 1 FROM product.reservations WHERE order_id = $1', [orderId])).rowCount).toBe(0)
      expect(eventsFor('stock.reserved', orderId)).toEqual([])
    })

    it('rejects an order naming an unknown product, and adds up repeated lines of one product', async () => {
      const a = await newProduct(5)
      const ghost = randomUUID()
      const unknown = randomUUID()
      const repeated = randomUUID()
      await deliver(
        orderEnvelope('order.created', unknown, [
          {product_id: a.id, quantity: 1},
          {product_id: ghost, quantity: 1},
        ]),
        orderEnvelope('order.created', repeated, [
          {product_id: a.id, quantity: 3},
          {product_id: a.id, quantity: 3},
        ]),
      )
      const rejections = await eventually(async () => {
        const r = [unknown, repeated].map((id) => eventsFor('stock.rejected', id)[0])
        return r.every(Boolean) && r.map((s) => json(s!.message).data)
      })
      expect(rejections).toEqual([
        {order_id: unknown, product_id: ghost, reason: 'unknown_product'},
        {order_id: repeated, product_id: a.id, reason: 'insufficient_stock'},
      ])
      expect(await stockOf(a.id)).toBe(5)
    })

    it('reserves once when the same order.created (same event_id) is delivered twice', async () => {
      const a = await newProduct(10)
      const orderId = randomUUID()
      const event = orderEnvelope('order.created', orderId, [{product_id: a.id, quantity: 4}])
      await deliver(event, event)
      expect(await stockOf(a.id)).toBe(6)
      // A later, distinct order still reserves: the duplicate was skipped, not the consumer.
      await deliver(orderEnvelope('order.created', randomUUID(), [{product_id: a.id, quantity: 1}]))
      expect(await stockOf(a.id)).toBe(5)
      expect(eventsFor('stock.reserved', orderId).length).toBeLessThanOrEqual(1)
      await eventually(async () => eventsFor('stock.reserved', orderId).length === 1, {what: 'one stock.reserved'})
    })

    it('order.canceled releases the reservation once, even when delivered twice or re-sent', async () => {
      const a = await newProduct(10)
      const b = await newProduct(10)
      const orderId = randomUUID()
      const items = [
        {product_id: a.id, quantity: 2},
        {product_id: b.id, quantity: 5},
      ]
      await deliver(orderEnvelope('order.created', orderId, items))
      expect([await stockOf(a.id), await stockOf(b.id)]).toEqual([8, 5])
      const cancel = orderEnvelope('order.canceled', orderId, items, 2)
      await deliver(cancel, cancel, orderEnvelope('order.canceled', orderId, items, 2))
      expect([await stockOf(a.id), await stockOf(b.id)]).toEqual([10, 10])
      const released = await eventually(async () => eventsFor('stock.released', orderId)[0], {what: 'stock.released'})
      expect(json(released.message)).toMatchObject({
        type: 'stock.released',
        aggregate_id: orderId,
        data: {order_id: orderId, items: expect.arrayContaining(items)},
      })
      await eventually(async () => eventsFor('product.updated', b.id).length === 2, {what: 'product.updated for reserve and release'})
      expect(eventsFor('product.updated', b.id).map((s) => json(s.message).data.stock)).toEqual([5, 10])
      expect(eventsFor('stock.released', orderId)).toHaveLength(1)
      const {rows} = await db.query('SELECT count(*)::int AS open FROM product.reservations WHERE order_id = $1 AND released_at IS NULL', [orderId])
      expect(rows[0].open).toBe(0)
    })

    it('order.canceled before its order.created: nothing is released, and nothing is reserved later', async () => {
      const a = await newProduct(3)
      const orderId = randomUUID()
      const items = [{product_id: a.id, quantity: 2}]
      await deliver(orderEnvelope('order.canceled', orderId, items, 2))
      await deliver(orderEnvelope('order.created', orderId, items))
      expect(await stockOf(a.id)).toBe(3)
      expect(eventsFor('stock.released', orderId)).toEqual([])
      expect(eventsFor('stock.reserved', orderId)).toEqual([])
    })
  })

  describe('dead letters', () => {
    const dlqFor = (marker: string) => collector.seen.find((s) => s.topic === p.ns('order.created.dlq') && s.message.key?.toString() === marker)

    it('a poison order.created goes to order.created.dlq at once with the §4 headers, and the consumer keeps going', async () => {
      const key = `poison-${randomUUID()}`
      const before = consumed()
      await producer.send({
        topic: p.ns('order.created'),
        messages: [{key, value: '{"not": "an envelope"', headers: {'event-type': 'order.created', trace: 'abc'}}],
      })
      const dead = await eventually(async () => dlqFor(key), {what: 'dead letter'})
      expect(dead.message.value?.toString()).toBe('{"not": "an envelope"')
      const h = (n: string) => header(dead.message, n)
      expect(h('event-type')).toBe('order.created')
      expect(h('trace')).toBe('abc')
      expect(h('x-original-topic')).toBe(p.ns('order.created'))
      expect(h('x-original-partition')).toMatch(/^\d+$/)
      expect(h('x-original-offset')).toMatch(/^\d+$/)
      expect(h('x-error-class')).toBe('PoisonMessageError')
      expect(h('x-error-message')).toContain('JSON')
      expect(h('x-attempts')).toBe('1')
      expect(new Date(h('x-failed-at')!).getTime()).toBeGreaterThan(Date.now() - 60_000)
      await eventually(async () => consumed() >= before + 1)

      const a = await newProduct(2)
      await deliver(orderEnvelope('order.created', randomUUID(), [{product_id: a.id, quantity: 2}]))
      expect(await stockOf(a.id)).toBe(0)
    })

    it('a handler that keeps failing is retried with the configured backoff, then dead-lettered with x-attempts', async () => {
      const a = await newProduct(5)
      const orderId = randomUUID()
      // A real fault in the database for this one order: every attempt fails, nothing else does.
      await db.query(`CREATE FUNCTION product.it_fail() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.order_id = '${orderId}' THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$`)
      await db.query('CREATE TRIGGER it_fail BEFORE INSERT ON product.reservations FOR EACH ROW EXECUTE FUNCTION product.it_fail()')
      try {
        const {retried: retriedBefore, deadLettered: deadBefore} = counters()
        await send(orderEnvelope('order.created', orderId, [{product_id: a.id, quantity: 1}]))
        const dead = await eventually(async () => dlqFor(orderId), {what: 'dead letter after retries'})
        await eventually(async () => counters().deadLettered === deadBefore + 1, {what: 'dead letter counted'})
        expect(header(dead.message, 'x-attempts')).toBe(String(TEST_DEPS.config.retryBackoffMs.length + 1))
        expect(header(dead.message, 'x-error-message')).toContain('injected failure')
        expect(header(dead.message, 'event-type')).toBe('order.created')
        expect(header(dead.message, 'x-original-topic')).toBe(p.ns('order.created'))
        expect(counters().retried - retriedBefore).toBe(TEST_DEPS.config.retryBackoffMs.length)
        expect(await stockOf(a.id)).toBe(5)
      } finally {
        await db.query('DROP TRIGGER it_fail ON product.reservations')
        await db.query('DROP FUNCTION product.it_fail()')
      }
      await deliver(orderEnvelope('order.created', randomUUID(), [{product_id: a.id, quantity: 5}]))
      expect(await stockOf(a.id)).toBe(0)
    })
  })
})
