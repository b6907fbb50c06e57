import {randomUUID} from 'node:crypto'

import amqp from 'amqplib'
import {Redis} from 'ioredis'
import {Kafka, logLevel} from 'kafkajs'
import pg from 'pg'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {createOrderRunner} from '../../services/order/index.js'
import {eventually, http, routesRunner, startTestPlatform, TEST_DEPS, type TestPlatform} from './harness.js'
import {uniqueName} from './isolation.js'

/**
 * Order creation against real servers. Customers and products are served over HTTP by a stub
 * runner in the same gateway, so prices can change between calls and no stock flow interferes;
 * order-flow.int.test.ts runs the real customer and product runners.
 */
const customers = new Map<string, {id: string; name: string; email: string}>()
const products = new Map<string, {id: string; sku: string; name: string; price_cents: number; stock: number}>()
const catalogHits: string[] = []
const catalogStub = routesRunner('catalog-stub', (app) => {
  app.get<{Params: {id: string}}>(
    '/customers/:id',
    async (req, reply) => (
      catalogHits.push(`customer:${req.params.id}`),
      customers.get(req.params.id) ?? reply.status(404).send({error: {code: 'not_found', message: 'no'}})
    ),
  )
  app.get<{Params: {id: string}}>(
    '/products/:id',
    async (req, reply) => products.get(req.params.id) ?? reply.status(404).send({error: {code: 'not_found', message: 'no'}}),
  )
  app.get<{Querystring: {ids?: string}}>('/products', async (req) => {
    catalogHits.push(`products:${req.query.ids ?? ''}`)
    const items = (req.query.ids ?? '').split(',').flatMap((id) => (products.has(id) ? [products.get(id)!] : []))
    return {items, limit: 100, offset: 0, total: items.length}
  })
})
const newCustomer = () => {
  const id = randomUUID()
  customers.set(id, {id, name: 'Ana', email: `${id}@example.com`})
  return id
}
const newProduct = (price_cents: number) => {
  const id = randomUUID()
  products.set(id, {id, sku: `SKU-${id.slice(0, 8)}`, name: 'Mate', price_cents, stock: 100})
  return id
}

let platform: TestPlatform
let db: pg.Client
let redis: Redis
let rabbit: amqp.ChannelModel
const kafkaSeen: {topic: string; key: string; headers: Record<string, string>; value: any}[] = []
const rabbitSeen: {body: string; messageId: string; routingKey: string}[] = []
let stopKafka: () => Promise<void>

beforeAll(async () => {
  platform = await startTestPlatform({label: 'order', runners: [catalogStub, createOrderRunner(TEST_DEPS)]})
  db = new pg.Client({connectionString: platform.endpoints.postgres})
  await db.connect()
  redis = new Redis(platform.endpoints.redis)
  rabbit = await amqp.connect(platform.endpoints.rabbitmq)
  const ch = await rabbit.createChannel()
  const {queue} = await ch.assertQueue(platform.ns(uniqueName('it-order-created')), {exclusive: true, autoDelete: true})
  await ch.bindQueue(queue, platform.ns('events'), 'order.created')
  await ch.consume(queue, (m) => m && rabbitSeen.push({body: m.content.toString(), messageId: m.properties.messageId, routingKey: m.fields.routingKey}), {
    noAck: true,
  })
  const consumer = new Kafka({clientId: 'it-order', brokers: platform.endpoints.kafka, logLevel: logLevel.NOTHING}).consumer({groupId: uniqueName('it-order')})
  await consumer.connect()
  await consumer.subscribe({topics: [platform.ns('order.created')], fromBeginning: true})
  await consumer.run({
    eachMessage: async ({topic, message}) => {
      const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]))
      kafkaSeen.push({topic, key: String(message.key), headers, value: JSON.parse(String(message.value))})
    },
  })
  stopKafka = () => consumer.disconnect()
})

afterAll(async () => {
  await stopKafka?.()
  await rabbit?.close()
  redis?.disconnect()
  await db?.end()
  await platform?.stop()
})

const createOrder = (body: unknown, headers: Record<string, string> = {}) => http(platform.url, 'POST', '/orders', body, headers)
const outboxFor = async (orderId: string) =>
  (await db.query(`SELECT destination, topic, payload, headers FROM "order".outbox WHERE message_key = $1 ORDER BY id`, [orderId])).rows
/** Waits until a later order's events are visible, so anything published before them would be too. */
const publishedUpTo = async () => {
  const {body} = await createOrder({customer_id: newCustomer(), items: [{product_id: newProduct(1), quantity: 1}]})
  await eventually(async () => kafkaSeen.some((m) => m.key === body.id) && rabbitSeen.some((m) => m.body.includes(body.id)), {what: 'marker order published'})
}

describe('POST /orders', () => {
  it('creates a PENDING order priced at creation, merging duplicate product lines', async () => {
    const customer = newCustomer()
    const [a, b] = [newProduct(250), newProduct(1000)]
    const res = await createOrder({
      customer_id: customer,
      items: [
        {product_id: a, quantity: 2},
        {product_id: b, quantity: 1},
        {product_id: a, quantity: 3},
      ],
    })
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({
      status: 'PENDING',
      customer_id: customer,
      total_cents: 5 * 250 + 1000,
      paid_at: null,
      canceled_at: null,
      cancel_reason: null,
    })
    expect(res.body.items).toEqual([
      {product_id: a, quantity: 5, unit_price_cents: 250},
      {product_id: b, quantity: 1, unit_price_cents: 1000},
    ])
    expect(new Date(res.body.created_at).toISOString()).toBe(res.body.created_at)
    products.get(a)!.price_cents = 999
    const again = await http(platform.url, 'GET', `/orders/${res.body.id}`)
    expect(again.status).toBe(200)
    expect(again.body.items[0].unit_price_cents).toBe(250)
    expect(again.body.total_cents).toBe(2250)
  })

  it('looks the customer up in the Redis cache first, then over HTTP', async () => {
    const cachedOnly = randomUUID()
    await redis.set(platform.ns(`customer:${cachedOnly}`), JSON.stringify({id: cachedOnly, name: 'Cached', email: 'c@example.com'}))
    const product = newProduct(100)
    const res = await createOrder({customer_id: cachedOnly, items: [{product_id: product, quantity: 1}]})
    expect(res.status).toBe(201)
    expect(catalogHits).not.toContain(`customer:${cachedOnly}`)
    const viaHttp = newCustomer()
    expect((await createOrder({customer_id: viaHttp, items: [{product_id: product, quantity: 1}]})).status).toBe(201)
    expect(catalogHits).toContain(`customer:${viaHttp}`)
  })

  it('rejects an unknown customer with 422 and writes or publishes nothing', async () => {
    const ghost = randomUUID()
    const key = uniqueName('k')
    const res = await createOrder({customer_id: ghost, items: [{product_id: newProduct(100), quantity: 1}]}, {'idempotency-key': key})
    expect(res.status).toBe(422)
    expect(res.body.error.message).toContain(`customer ${ghost} not found`)
    expect(res.body.error.details.field).toBe('customer_id')
    expect((await db.query(`SELECT count(*)::int AS n FROM "order".orders WHERE customer_id = $1`, [ghost])).rows[0].n).toBe(0)
    expect((await db.query(`SELECT count(*)::int AS n FROM "order".outbox WHERE payload LIKE $1`, [`%${ghost}%`])).rows[0].n).toBe(0)
    expect((await db.query(`SELECT count(*)::int AS n FROM "order".idempotency_keys WHERE key = $1`, [key])).rows[0].n).toBe(0)
    await publishedUpTo()
    expect(kafkaSeen.filter((m) => m.value.data.customer_id === ghost)).toEqual([])
    expect(rabbitSeen.filter((m) => m.body.includes(ghost))).toEqual([])
  })

  it('looks every line of an order up in one product request', async () => {
    const ids = [newProduct(100), newProduct(200), newProduct(300)]
    const before = catalogHits.length
    const res = await createOrder({customer_id: newCustomer(), items: ids.map((product_id) => ({product_id, quantity: 1}))})
    expect(res.status).toBe(201)
    expect(res.body.total_cents).toBe(600)
    const lookups = catalogHits.slice(before).filter((h) => h.startsWith('products:'))
    expect(lookups).toEqual([`products:${ids.join(',')}`])
  })

  it('rejects an unknown product with 422 naming its line', async () => {
    const ghost = randomUUID()
    const res = await createOrder({
      customer_id: newCustomer(),
      items: [
        {product_id: newProduct(5), quantity: 1},
        {product_id: ghost, quantity: 2},
      ],
    })
    expect(res.status).toBe(422)
    expect(res.body.error.message).toContain('items[1].product_id')
    expect(res.body.error.details).toMatchObject({field: 'items[1].product_id', product_id: ghost})
  })

  it.each([
    ['empty items', {items: []}, 'body/items'],
    ['quantity 0', {items: [{product_id: 'p', quantity: 0}]}, 'body/items/0/quantity'],
    [
      'a fractional quantity',
      {
        items: [
          {product_id: 'p', quantity: 1},
          {product_id: 'q', quantity: 1.5},
        ],
      },
      'body/items/1/quantity',
    ],
    ['no product_id', {items: [{quantity: 1}]}, 'product_id'],
    ['no customer_id', {customer_id: undefined, items: [{product_id: 'p', quantity: 1}]}, 'customer_id'],
  ])('answers 400 naming the field for %s', async (_what, patch, field) => {
    const res = await createOrder({customer_id: newCustomer(), ...patch})
    expect(res.status).toBe(400)
    expect(res.body.error.message).toContain(field)
  })

  it('with the same Idempotency-Key creates one order and one order.created, even concurrently', async () => {
    const key = uniqueName('idem')
    const body = {customer_id: newCustomer(), items: [{product_id: newProduct(700), quantity: 2}]}
    const results = await Promise.all([
      createOrder(body, {'idempotency-key': key}),
      createOrder(body, {'idempotency-key': key}),
      createOrder(body, {'idempotency-key': key}),
    ])
    const later = await createOrder(body, {'idempotency-key': key})
    for (const r of [...results, later]) expect(r.status).toBe(201)
    const ids = new Set([...results, later].map((r) => r.body.id))
    expect(ids.size).toBe(1)
    const [id] = [...ids] as [string]
    expect((await db.query(`SELECT count(*)::int AS n FROM "order".orders WHERE customer_id = $1`, [body.customer_id])).rows[0].n).toBe(1)
    expect((await outboxFor(id)).map((r) => r.destination)).toEqual(['kafka', 'rabbitmq'])
    const other = await createOrder({...body, items: [{...body.items[0]!, quantity: 3}]}, {'idempotency-key': key})
    expect(other.status).toBe(422)
    expect(other.body.error.message).toMatch(/Idempotency-Key .* different request/)
    await publishedUpTo()
    expect(kafkaSeen.filter((m) => m.key === id)).toHaveLength(1)
    expect(rabbitSeen.filter((m) => m.body.includes(id))).toHaveLength(1)
  })

  it('publishes order.created on the namespaced Kafka topic and the RabbitMQ exchange', async () => {
    const customer = newCustomer()
    const {body: order} = await createOrder({customer_id: customer, items: [{product_id: newProduct(300), quantity: 1}]})
    const kafka = await eventually(async () => kafkaSeen.find((m) => m.key === order.id), {what: 'order.created on Kafka'})
    expect(kafka.topic).toBe(platform.ns('order.created'))
    expect(kafka.headers).toEqual({'event-type': 'order.created', 'event-id': kafka.value.event_id})
    expect(kafka.value).toMatchObject({type: 'order.created', aggregate_id: order.id, aggregate_version: 1})
    const {version: _v, ...data} = order
    expect(kafka.value.data).toEqual(data)
    const amqpMsg = await eventually(async () => rabbitSeen.find((m) => m.body.includes(order.id)), {what: 'order.created on RabbitMQ'})
    const body = JSON.parse(amqpMsg.body)
    expect(Object.keys(body).sort()).toEqual(['data', 'event', 'timestamp'])
    expect(body).toEqual({event: 'order_created', data: {order_id: order.id, customer_id: customer}, timestamp: kafka.value.occurred_at})
    expect(new Date(body.timestamp).toISOString()).toBe(body.timestamp)
    expect(amqpMsg.messageId).toBe(kafka.value.event_id)
    expect(amqpMsg.routingKey).toBe('order.created')
  })
})

describe('GET /orders', () => {
  it("answers 404 for a missing order, and lists a customer's orders newest first with a limit", async () => {
    expect((await http(platform.url, 'GET', `/orders/${randomUUID()}`)).status).toBe(404)
    expect((await http(platform.url, 'GET', '/orders/not-a-uuid')).status).toBe(404)
    const customer = newCustomer()
    const product = newProduct(10)
    const ids: string[] = []
    for (let i = 1; i <= 3; i++) ids.push((await createOrder({customer_id: customer, items: [{product_id: product, quantity: i}]})).body.id)
    const all = await http(platform.url, 'GET', `/orders?customer_id=${customer}`)
    expect(all.body.items.map((o: {id: string}) => o.id)).toEqual([...ids].reverse())
    const two = await http(platform.url, 'GET', `/orders?customer_id=${customer}&limit=2`)
    expect(two.body.items.map((o: {id: string}) => o.id)).toEqual([ids[2], ids[1]])
    expect((await http(platform.url, 'GET', `/orders?customer_id=${customer}&limit=0`)).status).toBe(400)
  })
})
