import {randomUUID} from 'node:crypto'

import {Kafka, logLevel, type Producer} from 'kafkajs'
import {MongoClient} from 'mongodb'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {createQueryRunner} from '../../services/query/index.js'
import {projectBatch} from '../../services/query/projector.js'
import {views} from '../../services/query/views.js'
import {type Envelope, envelopeHeaders, newEnvelope} from '../../services/shared/envelope.js'
import type {CustomerData, OrderData, OrderStatus, ProductData} from '../../services/shared/events.js'
import {dlqOf} from '../../src/infra/topology/spec.js'
import {eventually, http, startTestPlatform, TEST_DEPS, type TestPlatform} from './harness.js'

const T0 = Date.parse('2026-03-01T10:00:00.000Z')
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString()

const customerEvent = (v: number, c: Partial<CustomerData> & {id: string}) =>
  newEnvelope(v === 1 ? 'customer.created' : 'customer.updated', c.id, v, {
    name: `Name ${v}`,
    email: `c${v}@x.test`,
    address: null,
    orders_count: 0,
    created_at: at(0),
    updated_at: at(v),
    ...c,
  })
const productEvent = (v: number, p: Partial<ProductData> & {id: string}) =>
  newEnvelope(v === 1 ? 'product.created' : 'product.updated', p.id, v, {
    sku: `SKU-${p.id.slice(0, 8)}`,
    name: `Product ${v}`,
    price_cents: 250,
    stock: 10,
    created_at: at(0),
    updated_at: at(v),
    ...p,
  })
const ORDER_TYPES: Record<OrderStatus, string> = {PENDING: 'order.created', RESERVED: 'order.reserved', PAID: 'order.paid', CANCELED: 'order.canceled'}
const orderEvent = (v: number, status: OrderStatus, o: Partial<OrderData> & {id: string; customer_id: string; items: OrderData['items']}) =>
  newEnvelope(ORDER_TYPES[status], o.id, v, {
    status,
    total_cents: o.items.reduce((s, i) => s + i.quantity * i.unit_price_cents, 0),
    created_at: at(1),
    updated_at: at(v),
    paid_at: status === 'PAID' ? at(v) : null,
    canceled_at: null,
    cancel_reason: null,
    ...o,
  })

describe('query projections (order, duplicates, reordering, late names, poison)', () => {
  let p: TestPlatform
  let producer: Producer
  let kafka: Kafka
  let mongo: MongoClient
  const send = async (...envs: Envelope[]) => {
    for (const e of envs)
      await producer.send({topic: p.ns(e.type), acks: -1, messages: [{key: e.aggregate_id, value: JSON.stringify(e), headers: envelopeHeaders(e)}]})
  }
  const getOrder = (id: string) => http(p.url, 'GET', `/q/orders/${id}`)
  const stored = (coll: string, id: string) => mongo.db(p.ns('mercadomio')).collection<{_id: string}>(coll).findOne({_id: id})
  const queryInfo = async (): Promise<{stale: number; applied: number}> =>
    ((await http(p.url, 'GET', '/health')).body.runners as {name: string; info: {stale: number; applied: number}}[]).find((r) => r.name === 'query')!.info
  const waitStale = (n: number) => eventually(async () => (await queryInfo()).stale >= n, {what: `${n} stale events handled`})

  beforeAll(async () => {
    p = await startTestPlatform({label: 'query-projection', runners: [createQueryRunner(TEST_DEPS)]})
    kafka = new Kafka({clientId: 'query-it', brokers: p.endpoints.kafka, logLevel: logLevel.NOTHING})
    producer = kafka.producer({allowAutoTopicCreation: false})
    await producer.connect()
    mongo = new MongoClient(p.endpoints.mongo, {directConnection: true})
    await mongo.connect()
  })
  afterAll(async () => {
    await producer?.disconnect()
    await mongo?.close()
    await p?.stop()
  })

  it('follows an order created → reserved → paid with customer and product names', async () => {
    const [cid, pid, oid] = [randomUUID(), randomUUID(), randomUUID()]
    await send(customerEvent(1, {id: cid, name: 'Ana Souza', email: 'ana@x.test'}), productEvent(1, {id: pid, sku: 'MUG-1', name: 'Mug'}))
    await eventually(async () => (await stored('customers_view', cid)) && (await stored('products_view', pid)), {what: 'customer and product projected'})
    const base = {id: oid, customer_id: cid, items: [{product_id: pid, quantity: 2, unit_price_cents: 250}]}
    await send(orderEvent(1, 'PENDING', base))
    await eventually(async () => (await getOrder(oid)).status === 200, {what: 'order visible'})
    await send(orderEvent(2, 'RESERVED', base))
    await eventually(async () => (await getOrder(oid)).body.status === 'RESERVED', {what: 'order reserved'})
    await send(orderEvent(3, 'PAID', base))
    const {body} = await eventually(
      async () => {
        const r = await getOrder(oid)
        return r.body.status === 'PAID' && r
      },
      {what: 'order paid'},
    )
    expect(body).toEqual({
      id: oid,
      customer: {id: cid, name: 'Ana Souza', email: 'ana@x.test'},
      items: [{product_id: pid, sku: 'MUG-1', name: 'Mug', quantity: 2, unit_price_cents: 250}],
      status: 'PAID',
      total_cents: 500,
      created_at: at(1),
      updated_at: at(3),
      paid_at: at(3),
      canceled_at: null,
      cancel_reason: null,
    })
    expect(body).not.toHaveProperty('_id')
    expect(body).not.toHaveProperty('version')
  })

  it('keeps the newest version when events are duplicated or reordered', async () => {
    const [cid, pid, oid] = [randomUUID(), randomUUID(), randomUUID()]
    const base = {id: oid, customer_id: cid, items: [{product_id: pid, quantity: 1, unit_price_cents: 100}]}
    const staleBefore = (await queryInfo()).stale
    await send(orderEvent(1, 'PENDING', base))
    await eventually(async () => (await getOrder(oid)).status === 200, {what: 'order at v1'})
    await send(orderEvent(3, 'PAID', base))
    await eventually(async () => ((await stored('orders_view', oid)) as {version?: number} | null)?.version === 3, {what: 'order at v3'})
    // v2 arrives after v3, twice; v1 again: all ignored.
    await send(orderEvent(2, 'RESERVED', base), orderEvent(2, 'RESERVED', base), orderEvent(1, 'PENDING', base))
    await waitStale(staleBefore + 3)
    expect(await stored('orders_view', oid)).toMatchObject({version: 3, status: 'PAID', paid_at: new Date(at(3))})
    expect((await getOrder(oid)).body).toMatchObject({status: 'PAID', paid_at: at(3)})

    // Customer: v3 renames back to the v1 name, then v2 (another name) arrives late: no stale fill.
    await send(customerEvent(1, {id: cid, name: 'First'}))
    await eventually(async () => (await getOrder(oid)).body.customer.name === 'First', {what: 'customer v1 filled in'})
    await send(customerEvent(3, {id: cid, name: 'First', orders_count: 2}))
    await eventually(async () => ((await stored('customers_view', cid)) as {version?: number} | null)?.version === 3, {what: 'customer at v3'})
    await send(customerEvent(2, {id: cid, name: 'Middle'}), customerEvent(3, {id: cid, name: 'First', orders_count: 2}))
    await waitStale(staleBefore + 5)
    expect(await stored('customers_view', cid)).toMatchObject({version: 3, name: 'First', orders_count: 2})
    expect((await getOrder(oid)).body.customer).toEqual({id: cid, name: 'First', email: 'c3@x.test'})

    // Product: v2 (stock 4) then v1 again (stock 10): stock stays 4.
    await send(productEvent(2, {id: pid, stock: 4, name: 'Renamed'}), productEvent(1, {id: pid, stock: 10}))
    await waitStale(staleBefore + 6)
    expect(await stored('products_view', pid)).toMatchObject({version: 2, stock: 4, name: 'Renamed'})
    expect((await getOrder(oid)).body.items[0]).toMatchObject({name: 'Renamed'})
  })

  it('fills customer and product names in once they arrive after the order', async () => {
    const [cid, p1, p2, oid] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()]
    const items = [
      {product_id: p1, quantity: 1, unit_price_cents: 100},
      {product_id: p2, quantity: 2, unit_price_cents: 300},
      {product_id: p1, quantity: 3, unit_price_cents: 100},
    ]
    await send(orderEvent(1, 'PENDING', {id: oid, customer_id: cid, items}))
    const first = await eventually(
      async () => {
        const r = await getOrder(oid)
        return r.status === 200 && r.body
      },
      {what: 'order visible without names'},
    )
    expect(first.customer).toEqual({id: cid, name: null, email: null})
    expect(first.items.map((i: {sku: unknown}) => i.sku)).toEqual([null, null, null])

    await send(
      customerEvent(1, {id: cid, name: 'Late Larry', email: 'larry@x.test'}),
      productEvent(1, {id: p1, sku: 'P-ONE', name: 'One'}),
      productEvent(1, {id: p2, sku: 'P-TWO', name: 'Two'}),
    )
    const filled = await eventually(
      async () => {
        const {body} = await getOrder(oid)
        return body.customer.name !== null && body.items.every((i: {sku: unknown}) => i.sku !== null) && body
      },
      {what: 'names filled in'},
    )
    expect(filled.customer).toEqual({id: cid, name: 'Late Larry', email: 'larry@x.test'})
    expect(filled.items.map((i: {sku: string; name: string; quantity: number}) => [i.sku, i.name, i.quantity])).toEqual([
      ['P-ONE', 'One', 1],
      ['P-TWO', 'Two', 2],
      ['P-ONE', 'One', 3],
    ])
    // A later rename reaches the order too.
    await send(customerEvent(2, {id: cid, name: 'Larry Renamed', email: 'larry@x.test'}))
    await eventually(async () => (await getOrder(oid)).body.customer.name === 'Larry Renamed', {what: 'rename propagated'})
  })

  it('one batch holding events out of order, duplicates and names arriving in it applies like one at a time', async () => {
    // projectBatch directly, on a database of its own: what a consumed batch does, with no consumer timing.
    const v = views(mongo.db(p.ns('batch_direct')))
    const [cid, pid, oid, other] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()]
    const items = [{product_id: pid, quantity: 3, unit_price_cents: 250}]
    const base = {id: oid, customer_id: cid, items}
    const paid = orderEvent(3, 'PAID', base)
    const batch = [
      paid,
      orderEvent(1, 'PENDING', base),
      customerEvent(1, {id: cid, name: 'Batch Bea', email: 'bea@x.test'}),
      orderEvent(2, 'RESERVED', base),
      paid, // a duplicate within the batch
      productEvent(2, {id: pid, sku: 'B-2', name: 'Two', stock: 7}),
      productEvent(1, {id: pid, sku: 'B-1', name: 'One', stock: 9}), // older than the one before it
      orderEvent(1, 'PENDING', {id: other, customer_id: cid, items}),
    ]
    const outcomes = await projectBatch(v, batch)
    expect(outcomes).toEqual(['applied', 'stale', 'applied', 'stale', 'stale', 'applied', 'stale', 'applied'])
    const order = await v.orders.findOne({_id: oid})
    expect(order).toMatchObject({status: 'PAID', version: 3, customer: {id: cid, name: 'Batch Bea', email: 'bea@x.test'}})
    expect(order!.items).toMatchObject([{product_id: pid, sku: 'B-2', name: 'Two', quantity: 3}])
    expect(await v.products.findOne({_id: pid})).toMatchObject({version: 2, stock: 7, sku: 'B-2'})
    expect((await v.orders.findOne({_id: other}))!.customer.name).toBe('Batch Bea')
    // Applying the same batch again changes nothing.
    expect(await projectBatch(v, batch)).toEqual(batch.map(() => 'stale'))
    // A stock-only change leaves the copied names alone; a rename reaches both orders.
    expect(await projectBatch(v, [productEvent(3, {id: pid, sku: 'B-2', name: 'Two', stock: 6})])).toEqual(['applied'])
    expect(await v.products.findOne({_id: pid})).toMatchObject({version: 3, stock: 6, fill_version: 2, filled_version: 2})
    await projectBatch(v, [customerEvent(2, {id: cid, name: 'Bea Renamed', email: 'bea@x.test'})])
    expect((await v.orders.find({'customer.id': cid}).toArray()).map((o) => o.customer.name)).toEqual(['Bea Renamed', 'Bea Renamed'])
  })

  it('finishes a copy of names into orders that was interrupted (filled_version behind fill_version)', async () => {
    const v = views(mongo.db(p.ns('batch_resume')))
    const [cid, oid] = [randomUUID(), randomUUID()]
    await projectBatch(v, [customerEvent(1, {id: cid, name: 'Old', email: 'o@x.test'}), orderEvent(1, 'PENDING', {id: oid, customer_id: cid, items: []})])
    // As if the runner died after writing customers_view v2 but before copying the name into orders.
    await v.customers.updateOne({_id: cid}, {$set: {name: 'New', version: 2, fill_version: 2}})
    expect((await v.orders.findOne({_id: oid}))!.customer.name).toBe('Old')
    // The redelivered event is stale for the view, yet completes the copy.
    expect(await projectBatch(v, [customerEvent(2, {id: cid, name: 'New', email: 'o@x.test'})])).toEqual(['stale'])
    expect((await v.orders.findOne({_id: oid}))!.customer.name).toBe('New')
    expect(await v.customers.findOne({_id: cid})).toMatchObject({fill_version: 2, filled_version: 2})
  })

  it('dead-letters a poison message with its headers and keeps applying the next events', async () => {
    const topic = p.ns('order.created')
    await producer.send({
      topic,
      acks: -1,
      messages: [{key: 'poison-key', value: 'not json at all', headers: {'event-type': 'order.created', 'event-id': 'poison-1'}}],
    })
    const invalid = newEnvelope('order.created', 'bad-data-key', 1, {id: 'bad-data-key', customer_id: 'c', status: 'PENDING'})
    await send(invalid)
    const [cid, pid, oid] = [randomUUID(), randomUUID(), randomUUID()]
    await send(orderEvent(1, 'PENDING', {id: oid, customer_id: cid, items: [{product_id: pid, quantity: 1, unit_price_cents: 100}]}))
    await eventually(async () => (await getOrder(oid)).status === 200, {what: 'next valid event applied'})

    const consumer = kafka.consumer({groupId: `${p.ns('dlq-reader')}-${randomUUID()}`})
    const dead: {key?: string; value?: string; headers: Record<string, string>}[] = []
    await consumer.connect()
    await consumer.subscribe({topic: dlqOf(topic), fromBeginning: true})
    await consumer.run({
      eachMessage: async ({message}) => {
        const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]))
        dead.push({key: message.key?.toString(), value: message.value?.toString(), headers})
      },
    })
    try {
      const letter = await eventually(async () => dead.find((d) => d.key === 'poison-key'), {what: 'poison message in the DLQ', timeoutMs: 30_000})
      expect(letter.value).toBe('not json at all')
      expect(letter.headers).toMatchObject({
        'event-type': 'order.created',
        'event-id': 'poison-1',
        'x-original-topic': topic,
        'x-error-class': 'PoisonMessageError',
        'x-attempts': '1',
      })
      expect(letter.headers['x-original-offset']).toMatch(/^\d+$/)
      expect(letter.headers['x-original-partition']).toMatch(/^\d+$/)
      expect(Date.parse(letter.headers['x-failed-at']!)).not.toBeNaN()
      const badData = await eventually(async () => dead.find((d) => d.key === 'bad-data-key'), {what: 'invalid data in the DLQ'})
      expect(badData.value).toBe(JSON.stringify(invalid))
      expect(badData.headers).toMatchObject({'event-id': invalid.event_id, 'x-error-class': 'PoisonMessageError'})
      expect(badData.headers['x-error-message']).toMatch(/total_cents|items/)
      expect(await stored('orders_view', 'bad-data-key')).toBeNull()
    } finally {
      await consumer.disconnect()
    }
  })
})
