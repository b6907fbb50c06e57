import {randomUUID} from 'node:crypto'

import {Kafka, logLevel, type Producer} from 'kafkajs'
import pg from 'pg'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {newEnvelope} from '../../services/shared/envelope.js'
import {createOrderRunner} from '../../services/order/index.js'
import {eventually, http, routesRunner, startTestPlatform, TEST_DEPS, type TestPlatform} from './harness.js'
import {uniqueName} from './isolation.js'

/**
 * The status machine against real servers. stock.reserved / stock.rejected are produced here, as
 * product would, so every race can be staged; a stub runner serves customers and products.
 */
const catalogStub = routesRunner('catalog-stub', (app) => {
  app.get<{Params: {id: string}}>('/customers/:id', async (req) => ({id: req.params.id, name: 'Ana', email: 'ana@example.com'}))
  app.get<{Querystring: {ids?: string}}>('/products', async (req) => {
    const items = (req.query.ids ?? '').split(',').map((id) => ({id, sku: 'SKU', name: 'Mate', price_cents: 400, stock: 10}))
    return {items, limit: 100, offset: 0, total: items.length}
  })
})

let platform: TestPlatform
let db: pg.Client
let producer: Producer
const seen: {type: string; key: string; version: number; data: any}[] = []
let stopKafka: () => Promise<void>

beforeAll(async () => {
  platform = await startTestPlatform({label: 'order-status', runners: [catalogStub, createOrderRunner(TEST_DEPS)]})
  db = new pg.Client({connectionString: platform.endpoints.postgres})
  await db.connect()
  const kafka = new Kafka({clientId: 'it-order-status', brokers: platform.endpoints.kafka, logLevel: logLevel.NOTHING})
  producer = kafka.producer()
  await producer.connect()
  const consumer = kafka.consumer({groupId: uniqueName('it-order-status')})
  await consumer.connect()
  await consumer.subscribe({
    topics: ['order.created', 'order.reserved', 'order.paid', 'order.canceled', 'stock.reserved.dlq'].map(platform.ns),
    fromBeginning: true,
  })
  await consumer.run({
    eachMessage: async ({message}) => {
      const e = JSON.parse(String(message.value))
      seen.push({type: e.type, key: String(message.key), version: e.aggregate_version, data: e.data})
    },
  })
  stopKafka = () => consumer.disconnect()
})

afterAll(async () => {
  await stopKafka?.()
  await producer?.disconnect()
  await db?.end()
  await platform?.stop()
})

const newOrder = async (): Promise<{id: string; items: {product_id: string; quantity: number}[]}> => {
  const res = await http(platform.url, 'POST', '/orders', {customer_id: randomUUID(), items: [{product_id: randomUUID(), quantity: 2}]})
  expect(res.status).toBe(201)
  return res.body
}
const getOrder = async (id: string) => (await http(platform.url, 'GET', `/orders/${id}`)).body
const stockEvent = async (type: 'stock.reserved' | 'stock.rejected', orderId: string, data: Record<string, unknown>, eventId?: string) => {
  const e = {...newEnvelope(type, orderId, 1, {order_id: orderId, ...data}), ...(eventId ? {event_id: eventId} : {})}
  await producer.send({topic: platform.ns(type), messages: [{key: orderId, value: JSON.stringify(e), headers: {'event-type': type, 'event-id': e.event_id}}]})
  return e.event_id
}
const processed = async (eventId: string) => (await db.query(`SELECT 1 FROM "order".processed_events WHERE event_id = $1`, [eventId])).rowCount === 1
const reserve = async (order: {id: string; items: unknown}) => {
  await stockEvent('stock.reserved', order.id, {items: order.items})
  await eventually(async () => (await getOrder(order.id)).status === 'RESERVED', {what: `order ${order.id} RESERVED`})
}
const eventsOf = (id: string) => seen.filter((e) => e.key === id).map((e) => `${e.type}@${e.version}`)
const post = (path: string, body?: unknown) => http(platform.url, 'POST', path, body)

describe('order status machine', () => {
  it('stock.reserved moves PENDING to RESERVED once, even when delivered twice', async () => {
    const order = await newOrder()
    const eventId = randomUUID()
    await stockEvent('stock.reserved', order.id, {items: order.items}, eventId)
    await stockEvent('stock.reserved', order.id, {items: order.items}, eventId)
    await eventually(async () => (await getOrder(order.id)).status === 'RESERVED', {what: 'RESERVED'})
    expect(await processed(eventId)).toBe(true) // recorded in the transition's transaction
    const marker = await newOrder()
    await reserve(marker) // consumed after both copies of the duplicate
    expect((await getOrder(order.id)).version).toBe(2)
    expect(
      (await db.query(`SELECT count(*)::int AS n FROM "order".outbox WHERE message_key = $1 AND topic = $2`, [order.id, platform.ns('order.reserved')])).rows[0]
        .n,
    ).toBe(1)
    await eventually(async () => eventsOf(marker.id).includes('order.reserved@2'), {what: 'marker published'})
    expect(eventsOf(order.id)).toEqual(['order.created@1', 'order.reserved@2'])
    expect(seen.find((e) => e.type === 'order.reserved' && e.key === order.id)?.data).toMatchObject({id: order.id, status: 'RESERVED', total_cents: 800})
  })

  it('pays a RESERVED order, and PAID is terminal', async () => {
    const order = await newOrder()
    await reserve(order)
    const paid = await post(`/orders/${order.id}/pay`)
    expect(paid.status).toBe(200)
    expect(paid.body).toMatchObject({status: 'PAID', version: 3})
    expect(paid.body.paid_at).toEqual(expect.any(String))
    const again = await post(`/orders/${order.id}/pay`)
    expect(again.status).toBe(409)
    expect(again.body.error).toEqual({code: 'conflict', message: `order ${order.id} is PAID; only RESERVED orders can be paid`, details: {status: 'PAID'}})
    const cancel = await post(`/orders/${order.id}/cancel`, {reason: 'too late'})
    expect(cancel.status).toBe(409)
    expect(cancel.body.error.message).toBe(`order ${order.id} is PAID; only PENDING or RESERVED orders can be canceled`)
    expect(cancel.body.error.details).toEqual({status: 'PAID'})
    await eventually(async () => eventsOf(order.id).includes('order.paid@3'), {what: 'order.paid published'})
    expect(seen.find((e) => e.type === 'order.paid' && e.key === order.id)?.data.paid_at).toBe(paid.body.paid_at)
  })

  it('refuses to pay a PENDING order with 409 naming its status', async () => {
    const order = await newOrder()
    const res = await post(`/orders/${order.id}/pay`)
    expect(res.status).toBe(409)
    expect(res.body.error).toEqual({code: 'conflict', message: `order ${order.id} is PENDING; only RESERVED orders can be paid`, details: {status: 'PENDING'}})
    expect((await getOrder(order.id)).status).toBe('PENDING')
  })

  it('cancels a PENDING order with a reason; CANCELED is terminal and a later stock.reserved does not resurrect it', async () => {
    const order = await newOrder()
    const res = await post(`/orders/${order.id}/cancel`, {reason: 'changed my mind'})
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({status: 'CANCELED', cancel_reason: 'changed my mind', version: 2})
    for (const path of ['cancel', 'pay']) {
      const again = await post(`/orders/${order.id}/${path}`)
      expect(again.status).toBe(409)
      expect(again.body.error.message).toContain(`order ${order.id} is CANCELED`)
      expect(again.body.error.details).toEqual({status: 'CANCELED'})
    }
    const late = await stockEvent('stock.reserved', order.id, {items: order.items})
    await eventually(() => processed(late), {what: 'late stock.reserved consumed'})
    expect(await getOrder(order.id)).toMatchObject({status: 'CANCELED', version: 2})
    await eventually(async () => eventsOf(order.id).includes('order.canceled@2'), {what: 'order.canceled published'})
    expect(seen.find((e) => e.type === 'order.canceled' && e.key === order.id)?.data).toMatchObject({status: 'CANCELED', cancel_reason: 'changed my mind'})
  })

  it('cancels a RESERVED order without a body', async () => {
    const order = await newOrder()
    await reserve(order)
    const res = await post(`/orders/${order.id}/cancel`)
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({status: 'CANCELED', cancel_reason: null, version: 3})
    expect(res.body.canceled_at).toEqual(expect.any(String))
  })

  it('stock.rejected cancels a PENDING order with its reason; a stale one for a RESERVED order is ignored', async () => {
    const order = await newOrder()
    await stockEvent('stock.rejected', order.id, {product_id: order.items[0]!.product_id, reason: 'insufficient_stock'})
    await eventually(async () => (await getOrder(order.id)).status === 'CANCELED', {what: 'CANCELED'})
    expect(await getOrder(order.id)).toMatchObject({cancel_reason: 'insufficient_stock', version: 2})
    const reserved = await newOrder()
    await reserve(reserved)
    const stale = await stockEvent('stock.rejected', reserved.id, {product_id: 'x', reason: 'insufficient_stock'})
    await eventually(() => processed(stale), {what: 'stale stock.rejected consumed'})
    expect((await getOrder(reserved.id)).status).toBe('RESERVED')
  })

  it('lets exactly one of a concurrent pay and cancel win', async () => {
    const order = await newOrder()
    await reserve(order)
    const results = await Promise.all([post(`/orders/${order.id}/pay`), post(`/orders/${order.id}/cancel`), post(`/orders/${order.id}/pay`)])
    expect(results.filter((r) => r.status === 200)).toHaveLength(1)
    expect(results.filter((r) => r.status === 409)).toHaveLength(2)
    expect((await getOrder(order.id)).version).toBe(3)
  })

  it('answers 404 for transitions of a missing order and dead-letters a stock event for one', async () => {
    expect((await post(`/orders/${randomUUID()}/pay`)).status).toBe(404)
    expect((await post(`/orders/${randomUUID()}/cancel`, {reason: 'x'})).status).toBe(404)
    expect((await post(`/orders/${randomUUID()}/cancel`, {reason: ['not', 'a', 'string']})).status).toBe(400)
    const ghost = randomUUID()
    const eventId = await stockEvent('stock.reserved', ghost, {items: []})
    await eventually(async () => seen.some((e) => e.key === ghost && e.type === 'stock.reserved'), {what: 'dead letter'})
    expect(await processed(eventId)).toBe(false)
  })
})
