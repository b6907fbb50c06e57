import {randomUUID} from 'node:crypto'

import {Kafka, logLevel, type Producer} from 'kafkajs'
import {MongoClient} from 'mongodb'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {createQueryRunner, projectionStats} from '../../services/query/index.js'
import {type Envelope, envelopeHeaders, newEnvelope} from '../../services/shared/envelope.js'
import type {OrderStatus} from '../../services/shared/events.js'
import {eventually, http, startTestPlatform, TEST_DEPS, type TestPlatform} from './harness.js'

const T0 = Date.parse('2026-04-01T08:00:00.000Z')
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString()
const TYPES: Record<OrderStatus, string> = {PENDING: 'order.created', RESERVED: 'order.reserved', PAID: 'order.paid', CANCELED: 'order.canceled'}
const VERSIONS: Record<OrderStatus, number> = {PENDING: 1, RESERVED: 2, PAID: 3, CANCELED: 2}

describe('query HTTP API over the projections', () => {
  let p: TestPlatform
  let producer: Producer
  let mongo: MongoClient
  const [ann, bob, mug, tea] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()]
  /** Orders of this file, oldest first: [id, customer, status, created_at minute]. */
  const orders: [string, string, OrderStatus, number][] = [
    [randomUUID(), ann, 'PAID', 1],
    [randomUUID(), bob, 'PENDING', 2],
    [randomUUID(), ann, 'CANCELED', 3],
    [randomUUID(), ann, 'PAID', 4],
    [randomUUID(), bob, 'RESERVED', 5],
    [randomUUID(), ann, 'PENDING', 6],
  ]
  const send = async (envs: Envelope[]) => {
    await producer.sendBatch({
      acks: -1,
      topicMessages: envs.map((e) => ({topic: p.ns(e.type), messages: [{key: e.aggregate_id, value: JSON.stringify(e), headers: envelopeHeaders(e)}]})),
    })
  }
  const customer = (id: string, v: number, name: string, ordersCount: number) =>
    newEnvelope(v === 1 ? 'customer.created' : 'customer.updated', id, v, {
      id,
      name,
      email: `${name.toLowerCase()}@x.test`,
      address: 'Rua 1',
      orders_count: ordersCount,
      created_at: at(0),
      updated_at: at(v),
    })
  const product = (id: string, v: number, sku: string, stock: number) =>
    newEnvelope(v === 1 ? 'product.created' : 'product.updated', id, v, {
      id,
      sku,
      name: sku.toLowerCase(),
      price_cents: 500,
      stock,
      created_at: at(0),
      updated_at: at(v),
    })
  const order = ([id, cid, status, minute]: (typeof orders)[number]) =>
    newEnvelope(TYPES[status], id, VERSIONS[status], {
      id,
      customer_id: cid,
      status,
      total_cents: 500,
      items: [{product_id: mug, quantity: 1, unit_price_cents: 500}],
      created_at: at(minute),
      updated_at: at(minute + 1),
      paid_at: status === 'PAID' ? at(minute + 1) : null,
      canceled_at: status === 'CANCELED' ? at(minute + 1) : null,
      cancel_reason: status === 'CANCELED' ? 'changed mind' : null,
    })
  const get = (path: string) => http(p.url, 'GET', path)
  const ids = (body: {items: {id: string}[]}) => body.items.map((o) => o.id)

  beforeAll(async () => {
    p = await startTestPlatform({label: 'query-api', runners: [createQueryRunner(TEST_DEPS)]})
    producer = new Kafka({clientId: 'query-api-it', brokers: p.endpoints.kafka, logLevel: logLevel.NOTHING}).producer({allowAutoTopicCreation: false})
    await producer.connect()
    mongo = new MongoClient(p.endpoints.mongo, {directConnection: true})
    await mongo.connect()
    await send([customer(ann, 1, 'Ann', 0), customer(bob, 1, 'Bob', 0), product(mug, 1, 'MUG', 10), product(tea, 1, 'TEA', 3), ...orders.map(order)])
    await send([customer(ann, 2, 'Ann', 4), customer(bob, 2, 'Bob', 2), product(mug, 2, 'MUG', 4)])
    await eventually(
      async () => {
        const all = (await get('/q/orders?limit=100')).body.items as {status: string; customer: {name: string | null}}[]
        const statuses = all.map((o) => o.status).sort()
        const stock = ((await get('/q/products')).body.items as {sku: string; stock: number}[]).find((x) => x.sku === 'MUG')?.stock
        const counts = ((await get('/q/customers')).body.items as {orders_count: number}[]).map((c) => c.orders_count)
        return (
          all.length === orders.length &&
          all.every((o) => o.customer.name !== null) &&
          JSON.stringify(statuses) === JSON.stringify(orders.map((o) => o[2]).sort()) &&
          stock === 4 &&
          counts.join() === '4,2'
        )
      },
      {what: 'all events projected', timeoutMs: 30_000},
    )
  })
  afterAll(async () => {
    await producer?.disconnect()
    await mongo?.close()
    await p?.stop()
  })

  it('lists orders newest first, filtered by customer and status, with a limit', async () => {
    const newestFirst = [...orders].reverse().map((o) => o[0])
    expect(ids((await get('/q/orders')).body)).toEqual(newestFirst)
    const annOrders = orders.filter((o) => o[1] === ann).reverse()
    expect(ids((await get(`/q/orders?customer_id=${ann}`)).body)).toEqual(annOrders.map((o) => o[0]))
    expect(ids((await get(`/q/orders?customer_id=${ann}&status=PAID`)).body)).toEqual(annOrders.filter((o) => o[2] === 'PAID').map((o) => o[0]))
    expect(ids((await get('/q/orders?status=RESERVED')).body)).toEqual([orders[4]![0]])
    expect(ids((await get(`/q/orders?customer_id=${ann}&limit=2`)).body)).toEqual(annOrders.slice(0, 2).map((o) => o[0]))
    expect((await get(`/q/orders?customer_id=${randomUUID()}`)).body).toEqual({items: []})
    const canceled = (await get('/q/orders?status=CANCELED')).body.items[0]
    expect(canceled).toMatchObject({
      id: orders[2]![0],
      canceled_at: at(4),
      cancel_reason: 'changed mind',
      customer: {id: ann, name: 'Ann', email: 'ann@x.test'},
    })
    expect(canceled).not.toHaveProperty('_id')
  })

  it('answers 400 naming the parameter for a bad limit or status', async () => {
    for (const limit of ['0', '101', 'abc', '2.5', '-1']) {
      const r = await get(`/q/orders?limit=${limit}`)
      expect(r.status, `limit=${limit}`).toBe(400)
      expect(r.body.error.message).toMatch(/limit/)
    }
    const r = await get('/q/orders?status=SHIPPED')
    expect(r.status).toBe(400)
    expect(r.body.error.message).toMatch(/status/)
    expect((await get('/q/products?limit=0')).status).toBe(400)
  })

  it('answers 404 with a JSON error for an unknown order', async () => {
    const id = randomUUID()
    const r = await get(`/q/orders/${id}`)
    expect(r.status).toBe(404)
    expect(r.body).toEqual({error: {code: 'not_found', message: `order ${id} not found`}})
  })

  it('shows products with their current stock and customers with orders_count', async () => {
    const products = (await get('/q/products')).body.items
    expect(products).toEqual([
      {id: mug, sku: 'MUG', name: 'mug', price_cents: 500, stock: 4, created_at: at(0), updated_at: at(2)},
      {id: tea, sku: 'TEA', name: 'tea', price_cents: 500, stock: 3, created_at: at(0), updated_at: at(1)},
    ])
    const customers = (await get('/q/customers')).body.items
    expect(customers).toEqual([
      {id: ann, name: 'Ann', email: 'ann@x.test', address: 'Rua 1', orders_count: 4, created_at: at(0), updated_at: at(2)},
      {id: bob, name: 'Bob', email: 'bob@x.test', address: 'Rua 1', orders_count: 2, created_at: at(0), updated_at: at(2)},
    ])
  })

  it('projectionStats counts orders by status, the latest orders and each view', async () => {
    const stats = await projectionStats(mongo.db(p.ns('mercadomio')))
    expect(stats.ordersByStatus).toEqual({PENDING: 2, RESERVED: 1, PAID: 2, CANCELED: 1})
    expect(stats.latestOrders.map((o) => o.id)).toEqual(
      [...orders]
        .reverse()
        .slice(0, 5)
        .map((o) => o[0]),
    )
    expect(stats.counts).toEqual({orders: 6, products: 2, customers: 2})
  })
})
