import {randomUUID} from 'node:crypto'
import {readFile} from 'node:fs/promises'

import amqp from 'amqplib'
import {Redis} from 'ioredis'
import {Kafka, logLevel} from 'kafkajs'
import pg from 'pg'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {createCustomerRunner} from '../../services/customer/index.js'
import {createProductRunner} from '../../services/product/index.js'
import {collectTopics, eventually, header, http, json, startTestPlatform, TEST_DEPS, type TestPlatform} from './harness.js'
import {uniqueName} from './isolation.js'

describe('customer component (PLATFORM.md §3.1)', () => {
  let p: TestPlatform
  let redis: Redis
  let db: pg.Client
  let rabbit: amqp.ChannelModel
  let ch: amqp.ConfirmChannel
  let kafka: Kafka
  let collector: Awaited<ReturnType<typeof collectTopics>>

  const create = (body: Record<string, unknown>) => http(p.url, 'POST', '/customers', body)
  const newCustomer = async (name = 'Ana') => {
    const res = await create({name, email: `${uniqueName('c')}@example.com`})
    expect(res.status).toBe(201)
    return res.body as {id: string; email: string}
  }
  const cacheKey = (id: string) => p.ns(`customer:${id}`)
  const counters = () => p.host.supervisor.reports().find((r) => r.name === 'customer')!.counters
  const publishOrderCreated = async (body: unknown) => {
    const content = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body))
    ch.publish(p.ns('events'), 'order.created', content, {contentType: 'application/json', persistent: true})
    await ch.waitForConfirms()
  }
  const orderCreated = (orderId: string, customerId: string) => ({
    event: 'order_created',
    data: {order_id: orderId, customer_id: customerId},
    timestamp: new Date().toISOString(),
  })

  beforeAll(async () => {
    p = await startTestPlatform({label: 'customer', runners: [createCustomerRunner(TEST_DEPS), createProductRunner(TEST_DEPS)]})
    redis = new Redis(p.endpoints.redis)
    db = new pg.Client({connectionString: p.endpoints.postgres})
    await db.connect()
    rabbit = await amqp.connect(p.endpoints.rabbitmq)
    ch = await rabbit.createConfirmChannel()
    kafka = new Kafka({clientId: 'it-customer', brokers: p.endpoints.kafka, logLevel: logLevel.NOTHING})
    collector = await collectTopics(kafka, [p.ns('customer.created'), p.ns('customer.updated')])
  })

  afterAll(async () => {
    await collector?.consumer.disconnect()
    await rabbit?.close()
    await db?.end()
    redis?.disconnect()
    await p?.stop()
  })

  describe('HTTP API', () => {
    it('POST /customers creates a customer: 201 with its full state', async () => {
      const res = await create({name: '  Ana Souza ', email: 'Ana.Souza@Example.com', address: 'Rua A, 1'})
      expect(res.status).toBe(201)
      expect(res.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        name: 'Ana Souza',
        email: 'Ana.Souza@Example.com',
        address: 'Rua A, 1',
        orders_count: 0,
        created_at: expect.any(String),
        updated_at: expect.any(String),
      })
      expect(new Date(res.body.created_at).toISOString()).toBe(res.body.created_at)
      const {rows} = await db.query('SELECT name, email, version FROM customer.customers WHERE id = $1', [res.body.id])
      expect(rows).toEqual([{name: 'Ana Souza', email: 'Ana.Souza@Example.com', version: 1}])
    })

    it('POST /customers with the same email in another case is a 409', async () => {
      const email = `${uniqueName('dup')}@example.com`
      expect((await create({name: 'A', email})).status).toBe(201)
      const res = await create({name: 'B', email: email.toUpperCase()})
      expect(res.status).toBe(409)
      expect(res.body.error).toMatchObject({code: 'conflict', message: expect.stringContaining('already exists')})
    })

    it.each([
      ['missing email', {name: 'A'}, 'email'],
      ['invalid email', {name: 'A', email: 'not-an-email'}, 'email'],
      ['blank name', {name: '   ', email: 'x@example.com'}, 'name'],
      ['address not a string', {name: 'A', email: 'y@example.com', address: {street: 1}}, 'address'],
    ])('POST /customers with %s is a 400 naming the field', async (_what, body, field) => {
      const res = await create(body)
      expect(res.status).toBe(400)
      expect(res.body.error.code).toBe('invalid_request')
      expect(res.body.error.message).toContain(field)
      expect(JSON.stringify(res.body)).not.toMatch(/at .*\.ts:\d+/)
    })

    it('POST /customers with a body that is not JSON is a 400 with the JSON error shape', async () => {
      const res = await fetch(`${p.url}/customers`, {method: 'POST', headers: {'content-type': 'application/json'}, body: '{"name":'})
      expect(res.status).toBe(400)
      expect(((await res.json()) as {error: unknown}).error).toMatchObject({code: expect.any(String), message: expect.any(String)})
    })

    it('GET /customers lists newest first and pages with limit/offset', async () => {
      const a = await newCustomer('first')
      const b = await newCustomer('second')
      const page = await http(p.url, 'GET', '/customers?limit=2&offset=0')
      expect(page.status).toBe(200)
      expect(page.body).toMatchObject({limit: 2, offset: 0, total: expect.any(Number)})
      expect(page.body.items.map((c: {id: string}) => c.id)).toEqual([b.id, a.id])
      const next = await http(p.url, 'GET', '/customers?limit=1&offset=1')
      expect(next.body.items.map((c: {id: string}) => c.id)).toEqual([a.id])
      const all = await http(p.url, 'GET', '/customers')
      expect(all.body.limit).toBe(50)
      expect(all.body.items.length).toBe(all.body.total)
    })

    it.each(['limit=0', 'limit=abc', 'offset=-1', 'limit=100000'])('GET /customers?%s is a 400', async (query) => {
      const res = await http(p.url, 'GET', `/customers?${query}`)
      expect(res.status).toBe(400)
      expect(res.body.error.message).toMatch(/limit|offset/)
    })

    it('GET /customers/:id returns the customer; unknown and non-uuid ids are 404', async () => {
      const c = await newCustomer()
      const got = await http(p.url, 'GET', `/customers/${c.id}`)
      expect(got.status).toBe(200)
      expect(got.body).toMatchObject({id: c.id, email: c.email, orders_count: 0})
      for (const id of [randomUUID(), 'not-a-uuid']) {
        const res = await http(p.url, 'GET', `/customers/${id}`)
        expect(res.status).toBe(404)
        expect(res.body.error).toEqual({code: 'not_found', message: `customer ${id} not found`})
      }
    })

    it('PUT /customers/:id changes the given fields; 404, 409 and 400 as the contract says', async () => {
      const c = await newCustomer()
      const other = await newCustomer()
      const res = await http(p.url, 'PUT', `/customers/${c.id}`, {name: 'Renamed', address: 'Av. B, 2'})
      expect(res.status).toBe(200)
      expect(res.body).toMatchObject({id: c.id, name: 'Renamed', email: c.email, address: 'Av. B, 2'})
      expect((await http(p.url, 'GET', `/customers/${c.id}`)).body.name).toBe('Renamed')
      const cleared = await http(p.url, 'PUT', `/customers/${c.id}`, {address: null})
      expect(cleared.body.address).toBeNull()

      const dup = await http(p.url, 'PUT', `/customers/${c.id}`, {email: other.email.toUpperCase()})
      expect(dup.status).toBe(409)
      expect(dup.body.error.code).toBe('conflict')
      expect((await http(p.url, 'PUT', `/customers/${randomUUID()}`, {name: 'x'})).status).toBe(404)
      expect((await http(p.url, 'PUT', `/customers/nope`, {name: 'x'})).status).toBe(404)
      const empty = await http(p.url, 'PUT', `/customers/${c.id}`, {})
      expect(empty.status).toBe(400)
      const bad = await http(p.url, 'PUT', `/customers/${c.id}`, {email: 'bad'})
      expect(bad.status).toBe(400)
      expect(bad.body.error.message).toContain('email')
    })
  })

  describe('Redis cache customer:<id>', () => {
    it('a create writes the cache through, with the 7-day TTL', async () => {
      const c = await newCustomer()
      expect(JSON.parse((await redis.get(cacheKey(c.id)))!)).toMatchObject({id: c.id, email: c.email})
      const ttl = await redis.ttl(cacheKey(c.id))
      expect(ttl).toBeGreaterThan(604_800 - 60)
      expect(ttl).toBeLessThanOrEqual(604_800)
    })

    it('a GET fills the cache on a miss and is served from it afterwards', async () => {
      const c = await newCustomer()
      await redis.del(cacheKey(c.id))
      expect((await http(p.url, 'GET', `/customers/${c.id}`)).status).toBe(200)
      const cached = JSON.parse((await redis.get(cacheKey(c.id)))!)
      expect(cached).toEqual((await http(p.url, 'GET', `/customers/${c.id}`)).body)
      expect(await redis.ttl(cacheKey(c.id))).toBeGreaterThan(604_800 - 60)
      // Reads go through the cache: a value only the cache has is what GET returns.
      await redis.set(cacheKey(c.id), JSON.stringify({...cached, name: 'only-in-cache'}), 'EX', 60)
      expect((await http(p.url, 'GET', `/customers/${c.id}`)).body.name).toBe('only-in-cache')
    })

    it('a PUT deletes the key before it responds', async () => {
      const c = await newCustomer()
      await http(p.url, 'GET', `/customers/${c.id}`)
      expect(await redis.exists(cacheKey(c.id))).toBe(1)
      const res = await http(p.url, 'PUT', `/customers/${c.id}`, {name: 'Fresh'})
      expect(res.status).toBe(200)
      expect(await redis.exists(cacheKey(c.id))).toBe(0)
      expect((await http(p.url, 'GET', `/customers/${c.id}`)).body.name).toBe('Fresh')
    })
  })

  describe('events on Kafka', () => {
    it('a create emits customer.created: envelope, key and headers', async () => {
      const c = await newCustomer('Evented')
      const found = await eventually(async () => collector.seen.find((s) => s.topic === p.ns('customer.created') && s.message.key?.toString() === c.id), {
        what: 'customer.created',
      })
      const e = json(found.message)
      expect(e).toEqual({
        event_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        type: 'customer.created',
        occurred_at: expect.any(String),
        aggregate_id: c.id,
        aggregate_version: 1,
        data: (await http(p.url, 'GET', `/customers/${c.id}`)).body,
      })
      expect(header(found.message, 'event-type')).toBe('customer.created')
      expect(header(found.message, 'event-id')).toBe(e.event_id)
    })

    it('an update emits customer.updated with the full state and the next version', async () => {
      const c = await newCustomer()
      await http(p.url, 'PUT', `/customers/${c.id}`, {name: 'V2'})
      await http(p.url, 'PUT', `/customers/${c.id}`, {address: 'V3 street'})
      const updates = await eventually(async () => {
        const got = collector.seen.filter((s) => s.topic === p.ns('customer.updated') && s.message.key?.toString() === c.id).map((s) => json(s.message))
        return got.length >= 2 && got
      })
      expect(updates.map((e) => e.aggregate_version)).toEqual([2, 3])
      expect(updates[1].data).toMatchObject({id: c.id, name: 'V2', address: 'V3 street', email: c.email, orders_count: 0})
      expect(updates[1].type).toBe('customer.updated')
    })
  })

  describe('order.created from RabbitMQ', () => {
    it('counts an order once when its message arrives twice, and two orders as 2', async () => {
      const c = await newCustomer()
      await http(p.url, 'GET', `/customers/${c.id}`)
      const before = counters().handled
      const first = orderCreated(randomUUID(), c.id)
      await publishOrderCreated(first)
      await publishOrderCreated(first)
      await eventually(async () => counters().handled >= before + 2, {what: 'both deliveries handled'})
      expect((await http(p.url, 'GET', `/customers/${c.id}`)).body.orders_count).toBe(1)

      await publishOrderCreated(orderCreated(randomUUID(), c.id))
      await eventually(async () => counters().handled >= before + 3, {what: 'second order handled'})
      expect(await redis.exists(cacheKey(c.id))).toBe(0)
      const got = await http(p.url, 'GET', `/customers/${c.id}`)
      expect(got.body.orders_count).toBe(2)
      const {rows} = await db.query('SELECT orders_count, version FROM customer.customers WHERE id = $1', [c.id])
      expect(rows).toEqual([{orders_count: 2, version: 3}])

      const updates = await eventually(async () => {
        const u = collector.seen.filter((s) => s.topic === p.ns('customer.updated') && s.message.key?.toString() === c.id).map((s) => json(s.message))
        return u.length >= 2 && u
      })
      expect(updates.map((e) => [e.aggregate_version, e.data.orders_count])).toEqual([
        [2, 1],
        [3, 2],
      ])
    })

    it('a burst is counted in batches: exact counts, duplicates once, the poison message alone dead-lettered', async () => {
      const cs = [await newCustomer('B1'), await newCustomer('B2'), await newCustomer('B3')]
      const dlq = p.ns('customer.order-events.dlq')
      const dlqBefore = (await ch.checkQueue(dlq)).messageCount
      const before = counters().handled + counters().deadLettered
      const bodies = cs.flatMap((c) => Array.from({length: 20}, () => orderCreated(randomUUID(), c.id)))
      const burst: string[] = bodies.map((b) => JSON.stringify(b))
      burst.splice(30, 0, 'poison in the middle')
      burst.push(...bodies.slice(0, 5).map((b) => JSON.stringify(b))) // five redeliveries
      for (const body of burst) ch.publish(p.ns('events'), 'order.created', Buffer.from(body), {persistent: true})
      await ch.waitForConfirms()
      await eventually(async () => counters().handled + counters().deadLettered >= before + burst.length, {what: 'burst consumed'})
      for (const c of cs) expect((await http(p.url, 'GET', `/customers/${c.id}`)).body.orders_count).toBe(20)
      expect((await ch.checkQueue(dlq)).messageCount).toBe(dlqBefore + 1)
      const last = await eventually(
        async () => {
          const latest = cs.map((c) =>
            collector.seen
              .filter((x) => x.topic === p.ns('customer.updated') && x.message.key?.toString() === c.id)
              .map((x) => json(x.message))
              .at(-1),
          )
          return latest.every((e) => e?.data.orders_count === 20) && latest
        },
        {what: 'customer.updated with the final counts'},
      )
      expect(last.map((e) => e!.data.orders_count)).toEqual([20, 20, 20])
    })

    it('acks an order of an unknown customer without dead-lettering it', async () => {
      const dlq = p.ns('customer.order-events.dlq')
      const dlqBefore = (await ch.checkQueue(dlq)).messageCount
      const before = counters().handled
      await publishOrderCreated(orderCreated(randomUUID(), randomUUID()))
      await eventually(async () => counters().handled >= before + 1, {what: 'unknown-customer message handled'})
      const q = await ch.checkQueue(p.ns('customer.order-events'))
      expect(q.messageCount).toBe(0)
      expect((await ch.checkQueue(dlq)).messageCount).toBe(dlqBefore)
      await eventually(async () => (await readFile(p.logFile, 'utf8')).includes('customer.order_for_unknown_customer'), {what: 'warning logged'})
    })

    it.each([
      ['not JSON', 'not json at all'],
      ['a wrong event', JSON.stringify({event: 'order_paid', data: {order_id: 'o', customer_id: randomUUID()}})],
      ['no customer id', JSON.stringify({event: 'order_created', data: {order_id: 'o'}})],
    ])('dead-letters a poison body (%s) into customer.order-events.dlq with the reason', async (_what, body) => {
      const dlq = p.ns('customer.order-events.dlq')
      const marker = randomUUID()
      ch.publish(p.ns('events'), 'order.created', Buffer.from(body), {messageId: marker})
      await ch.waitForConfirms()
      const dead = await eventually(
        async () => {
          const msg = await ch.get(dlq, {noAck: false})
          if (!msg) return undefined
          ch.ack(msg)
          return msg.properties.messageId === marker ? msg : undefined
        },
        {what: 'dead letter'},
      )
      expect(dead.content.toString()).toBe(body)
      expect(dead.properties.headers?.['x-error-class']).toBe('PoisonMessageError')
      expect(String(dead.properties.headers?.['x-error-message'])).not.toBe('')
      expect(dead.properties.headers?.['x-original-queue']).toBe(p.ns('customer.order-events'))
      // The consumer keeps going: a valid message after the poison one is counted.
      const c = await newCustomer()
      await publishOrderCreated(orderCreated(randomUUID(), c.id))
      await eventually(async () => (await http(p.url, 'GET', `/customers/${c.id}`)).body.orders_count === 1, {what: 'valid message after poison'})
    })
  })
})
