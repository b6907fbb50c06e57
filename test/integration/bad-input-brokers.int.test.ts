import {randomUUID} from 'node:crypto'
import {gzipSync} from 'node:zlib'

import amqp from 'amqplib'
import {type IHeaders, Kafka, type KafkaMessage, logLevel, type Producer} from 'kafkajs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {dlqOf} from '../../src/infra/topology/spec.js'
import {allRunners, collectTopics, eventually, header, http, startTestPlatform, type TestPlatform} from './harness.js'

/**
 * Bad input on both brokers (issue 10, item 4): on every consumed Kafka topic and RabbitMQ queue,
 * a message that can never be processed goes to its DLQ at once (x-attempts 1) with
 * x-error-class PoisonMessageError and an x-error-message naming the problem, and no runner
 * stops: afterwards each still processes a good message.
 */
let platform: TestPlatform
let kafka: Kafka
let producer: Producer
let dead: Awaited<ReturnType<typeof collectTopics>>
let conn: amqp.ChannelModel
let ch: amqp.ConfirmChannel

/** Who consumes each Kafka topic: a poison message there is dead-lettered once per consumer group. */
const CONSUMERS: Record<string, string[]> = {
  'order.created': ['product', 'query'],
  'order.canceled': ['product', 'query'],
  'stock.reserved': ['order'],
  'stock.rejected': ['order'],
  'customer.created': ['query'],
  'customer.updated': ['query'],
  'product.created': ['query'],
  'product.updated': ['query'],
  'order.reserved': ['query'],
  'order.paid': ['query'],
}
const TOPICS = Object.keys(CONSUMERS)

beforeAll(async () => {
  platform = await startTestPlatform({
    label: 'bad-input-brokers',
    runners: allRunners(),
  })
  kafka = new Kafka({clientId: 'it-bad-input', brokers: platform.endpoints.kafka, logLevel: logLevel.NOTHING})
  producer = kafka.producer({allowAutoTopicCreation: false})
  await producer.connect()
  dead = await collectTopics(
    kafka,
    TOPICS.map((t) => platform.ns(dlqOf(t))),
  )
  conn = await amqp.connect(platform.endpoints.rabbitmq)
  ch = await conn.createConfirmChannel()
})

afterAll(async () => {
  await dead?.consumer.disconnect()
  await producer?.disconnect()
  await conn?.close().catch(() => {})
  await platform?.stop()
})

const api = (method: string, path: string, body?: unknown) => http(platform.url, method, path, body)
const created = async (path: string, body: unknown) => {
  const res = await api('POST', path, body)
  expect(res.status, JSON.stringify(res.body)).toBe(201)
  return res.body
}
const now = () => new Date().toISOString()

/** A valid envelope (PLATFORM.md §4) of `type` about `id`, with `changes` on top. */
const envelope = (type: string, id: string, data: Record<string, unknown>, changes: Record<string, unknown> = {}) => ({
  event_id: randomUUID(),
  type,
  occurred_at: now(),
  aggregate_id: id,
  aggregate_version: 1,
  data: {id, ...data},
  ...changes,
})
const customerData = (marker: string) => ({
  name: `Ana ${marker}`,
  email: `${marker}@example.com`,
  address: null,
  orders_count: 0,
  created_at: now(),
  updated_at: now(),
})
const productData = (marker: string) => ({sku: `SKU-${marker}`, name: 'Mate', price_cents: 100, stock: 5, created_at: now(), updated_at: now()})
const orderData = (items: {product_id: string; quantity: number}[]) => ({
  customer_id: randomUUID(),
  status: 'PENDING',
  total_cents: 0,
  items: items.map((i) => ({...i, unit_price_cents: 0})),
  created_at: now(),
  updated_at: now(),
  paid_at: null,
  canceled_at: null,
  cancel_reason: null,
})

// ------------------------------------------------------------------------------------------------
// Kafka

/** The dead letters on `<topic>.dlq` whose key or value holds the marker. */
const deadLetters = (topic: string, marker: string) =>
  dead.seen
    .filter((s) => s.topic === platform.ns(dlqOf(topic)) && (s.message.key?.toString() === marker || s.message.value?.includes(marker)))
    .map((s) => s.message)

/** Publishes one raw message and waits for one dead letter per consumer of the topic; checks each. */
const expectDeadLettered = async (
  topic: string,
  message: {key?: string | null; value: Buffer | string | null; headers?: IHeaders},
  marker: string,
  reason: RegExp,
): Promise<KafkaMessage[]> => {
  await producer.send({topic: platform.ns(topic), acks: -1, messages: [{key: message.key ?? null, value: message.value, headers: message.headers}]})
  const consumers = CONSUMERS[topic]!.length
  const letters = await eventually(
    async () => {
      const found = deadLetters(topic, marker)
      return found.length >= consumers && found
    },
    {timeoutMs: 30_000, what: `${consumers} dead letter(s) on ${topic}.dlq`},
  )
  expect(letters).toHaveLength(consumers)
  for (const m of letters) {
    expect(header(m, 'x-original-topic')).toBe(platform.ns(topic))
    expect(header(m, 'x-error-class')).toBe('PoisonMessageError')
    expect(header(m, 'x-error-message')).toMatch(reason)
    expect(header(m, 'x-attempts')).toBe('1') // never retried: it can never succeed
    // The original value byte for byte (or none).
    if (message.value === null) expect(m.value).toBeNull()
    else expect(Buffer.compare(m.value!, Buffer.from(message.value))).toBe(0)
  }
  return letters
}

describe('Kafka: a value that is not JSON, with no headers and no key, on every consumed topic', () => {
  it.each(TOPICS)('%s', async (topic) => {
    const marker = randomUUID()
    const letters = await expectDeadLettered(topic, {value: `<<not json ${marker}>>`}, marker, /^message value is not JSON$/)
    for (const m of letters) {
      expect(m.key).toBeNull()
      expect(Object.keys(m.headers ?? {}).filter((k) => !k.startsWith('x-'))).toEqual([]) // nothing added but the x-* reason
    }
  })
})

describe('Kafka: envelopes that can never be applied', () => {
  const product = randomUUID()
  const cases: {kind: string; topic: string; value: (marker: string) => Buffer | string | null; reason: RegExp}[] = [
    {kind: 'no value at all (a tombstone)', topic: 'order.canceled', value: () => null, reason: /^empty message value$/},
    {
      kind: 'a value that is not UTF-8',
      topic: 'order.created',
      value: (m) =>
        Buffer.concat([Buffer.from(JSON.stringify(envelope('order.created', m, orderData([{product_id: product, quantity: 1}])))), Buffer.from([0xc3, 0x28])]),
      reason: /^message value is not valid UTF-8$/,
    },
    {kind: 'JSON that is not an object', topic: 'customer.updated', value: (m) => JSON.stringify([m]), reason: /^message value is not a JSON object$/},
    {
      kind: 'an envelope missing its fields',
      topic: 'product.updated',
      value: (m) => JSON.stringify({type: 'product.updated', marker: m}),
      reason: /^envelope lacks event_id, occurred_at, aggregate_id, aggregate_version, data$/,
    },
    {
      kind: 'an event id that is not a string',
      topic: 'order.paid',
      value: (m) => JSON.stringify(envelope('order.paid', m, orderData([]), {event_id: 42})),
      reason: /^event_id must be a non-empty string \(got 42\)$/,
    },
    {
      kind: 'an aggregate_version past 2^53',
      topic: 'product.created',
      value: (m) => JSON.stringify(envelope('product.created', m, productData(m))).replace('"aggregate_version":1', '"aggregate_version":9007199254740993'),
      reason: /^aggregate_version 9007199254740992 is past 2\^53 - 1/,
    },
    {
      kind: 'an aggregate_version that is a string',
      topic: 'customer.created',
      value: (m) => JSON.stringify(envelope('customer.created', m, customerData(m), {aggregate_version: '1'})),
      reason: /^aggregate_version is not an integer$/,
    },
    {
      kind: 'data that is an array',
      topic: 'order.reserved',
      value: (m) => JSON.stringify(envelope('order.reserved', m, {}, {data: [m]})),
      reason: /^data is not an object$/,
    },
    {
      kind: 'a NUL character in an id',
      topic: 'order.canceled',
      value: (m) => JSON.stringify(envelope('order.canceled', m, {...orderData([]), id: `${m}\u0000`})),
      reason: /^data\.id contains a NUL character$/,
    },
    {
      kind: 'an unpaired surrogate in a name',
      topic: 'customer.updated',
      value: (m) => JSON.stringify(envelope('customer.updated', m, {...customerData(m), name: 'Ana \ud83d'})),
      reason: /^data\.name contains an unpaired UTF-16 surrogate$/,
    },
    {
      kind: 'a field of the wrong type',
      topic: 'product.updated',
      value: (m) => JSON.stringify(envelope('product.updated', m, {...productData(m), price_cents: '100'})),
      reason: /^product\.updated data invalid at price_cents: /,
    },
    {
      kind: 'a quantity past 2^53',
      topic: 'order.created',
      value: (m) =>
        JSON.stringify(envelope('order.created', m, orderData([{product_id: product, quantity: 1}]))).replace('"quantity":1', '"quantity":9007199254740993'),
      reason: /items(\[0\]|\.0)\.quantity/,
    },
    {
      kind: 'an envelope of another type on the topic',
      topic: 'stock.rejected',
      value: (m) => JSON.stringify(envelope('stock.reserved', m, {order_id: randomUUID(), items: []})),
      reason: /^envelope type stock\.reserved on the stock\.rejected topic$/,
    },
    {
      kind: 'an order id that is not an id',
      topic: 'stock.rejected',
      value: (m) => JSON.stringify(envelope('stock.rejected', m, {order_id: 'abc', product_id: product, reason: 'insufficient_stock'})),
      reason: /^order_id abc is not an order id$/,
    },
    {
      kind: 'an event about an order that does not exist',
      topic: 'stock.reserved',
      value: (m) => JSON.stringify(envelope('stock.reserved', m, {order_id: m, items: []})),
      reason: /^order [0-9a-f-]{36} does not exist$/,
    },
  ]

  it.each(cases)('$kind ($topic)', async ({topic, value, reason}) => {
    const marker = randomUUID()
    await expectDeadLettered(topic, {key: marker, value: value(marker), headers: {'event-type': topic}}, marker, reason)
  })
})

describe('Kafka: odd but valid messages are applied', () => {
  it('an event with no headers and no key (product.created) is projected', async () => {
    const id = randomUUID()
    await producer.send({
      topic: platform.ns('product.created'),
      messages: [{key: null, value: JSON.stringify(envelope('product.created', id, productData(id)))}],
    })
    await eventually(async () => ((await api('GET', '/q/products?limit=1000')).body.items as {id: string}[]).some((p) => p.id === id), {
      timeoutMs: 30_000,
      what: 'the product projected',
    })
  })

  it('an order.created with no headers reserves its stock', async () => {
    const product = (await created('/products', {sku: `SKU-${randomUUID()}`, name: 'Mate', price_cents: 100, stock: 5})).id
    const order = randomUUID()
    await producer.send({
      topic: platform.ns('order.created'),
      messages: [{key: order, value: JSON.stringify(envelope('order.created', order, orderData([{product_id: product, quantity: 2}])))}],
    })
    await eventually(async () => (await api('GET', `/products/${product}`)).body.stock === 3, {timeoutMs: 30_000, what: 'stock reserved'})
  })

  it('a __proto__ key in event data is an ordinary key: it sets nothing', async () => {
    const id = randomUUID()
    const value = JSON.stringify(envelope('customer.created', id, customerData(id))).replace(
      '"data":{',
      '"data":{"__proto__":{"orders_count":99,"polluted":true},',
    )
    await producer.send({topic: platform.ns('customer.created'), messages: [{key: id, value}]})
    const view = await eventually(async () => ((await api('GET', '/q/customers?limit=1000')).body.items as {id: string}[]).find((c) => c.id === id), {
      timeoutMs: 30_000,
      what: 'the customer projected',
    })
    expect(view).toMatchObject({id, orders_count: 0})
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })
})

// ------------------------------------------------------------------------------------------------
// RabbitMQ

/** Everything read so far from each DLQ queue (reading acks, so keep what was read). */
const rabbitDead = new Map<string, amqp.GetMessage[]>()
const rabbitLetter = (queue: string, messageId: string) =>
  eventually(
    async () => {
      const dlq = platform.ns(dlqOf(queue))
      const seen = rabbitDead.get(dlq) ?? []
      rabbitDead.set(dlq, seen)
      for (let msg = await ch.get(dlq, {noAck: true}); msg; msg = await ch.get(dlq, {noAck: true})) seen.push(msg)
      return seen.find((m) => m.properties.messageId === messageId)
    },
    {timeoutMs: 30_000, what: `dead letter ${messageId} on ${queue}.dlq`},
  )

const publishTo = async (queue: string, content: Buffer, options: amqp.Options.Publish) => {
  if (queue === 'pulses') ch.sendToQueue(platform.ns('pulses'), content, options)
  else ch.publish(platform.ns('events'), 'order.created', content, options)
  await ch.waitForConfirms()
}

const pulse = (tenant: string, amount = '1') => `{"tenant":${JSON.stringify(tenant)},"product_sku":"sku","use_unity":"kWh","used_amount":${amount}}`
const orderCreated = (orderId: string, customerId: string) =>
  JSON.stringify({event: 'order_created', data: {order_id: orderId, customer_id: customerId}, timestamp: now()})
/** `text` with two bytes that are not UTF-8 right after `after` (inside a string value). */
const notUtf8 = (text: string, after: string) => {
  const at = text.indexOf(after) + after.length
  return Buffer.concat([Buffer.from(text.slice(0, at)), Buffer.from([0xff, 0xfe]), Buffer.from(text.slice(at))])
}

describe('RabbitMQ: bodies that can never be processed', () => {
  const cases: {kind: string; queue: 'pulses' | 'customer.order-events'; body: () => Buffer; options?: amqp.Options.Publish; reason: RegExp}[] = [
    {kind: 'a body that is not JSON, with no content type', queue: 'pulses', body: () => Buffer.from('tenant=a;sku=b'), reason: /^body is not JSON$/},
    {kind: 'an empty body', queue: 'pulses', body: () => Buffer.alloc(0), reason: /^body is not JSON$/},
    {kind: 'a 2 MiB body that is not JSON', queue: 'pulses', body: () => Buffer.alloc(2 * 1024 * 1024, 'x'), reason: /^body is not JSON$/},
    {kind: 'a body that is not UTF-8', queue: 'pulses', body: () => notUtf8(pulse('cafe'), 'caf'), reason: /^body is not valid UTF-8$/},
    {
      kind: 'a declared content type that is not JSON',
      queue: 'pulses',
      body: () => Buffer.from(pulse('t')),
      options: {contentType: 'text/csv'},
      reason: /^content type text\/csv is not JSON/,
    },
    {
      kind: 'a compressed body (content-encoding gzip)',
      queue: 'pulses',
      body: () => gzipSync(pulse('t')),
      options: {contentType: 'application/json', contentEncoding: 'gzip'},
      reason: /^content encoding gzip is not supported/,
    },
    {
      kind: 'a JSON charset other than UTF-8',
      queue: 'pulses',
      body: () => Buffer.from(pulse('t'), 'utf16le'),
      options: {contentType: 'application/json; charset=utf-16'},
      reason: /^charset utf-16 is not supported/,
    },
    {kind: 'an amount past any range (1e400)', queue: 'pulses', body: () => Buffer.from(pulse('t', '1e400')), reason: /^used_amount 1e400 is too large$/},
    {
      kind: 'fields hidden behind a __proto__ key',
      queue: 'pulses',
      body: () => Buffer.from('{"__proto__":{"tenant":"t","product_sku":"s","use_unity":"u","used_amount":1}}'),
      reason: /^tenant is missing$/,
    },
    {kind: 'a NUL character in a key field', queue: 'pulses', body: () => Buffer.from(pulse('t\u0000')), reason: /^tenant must not contain NUL characters$/},
    {
      kind: 'a body that is not JSON, with no content type',
      queue: 'customer.order-events',
      body: () => Buffer.from('order 42 created'),
      reason: /^message body is not JSON$/,
    },
    {
      kind: 'a body that is not UTF-8',
      queue: 'customer.order-events',
      body: () => notUtf8(orderCreated(`order-${randomUUID()}`, randomUUID()), 'order-'),
      reason: /^body is not valid UTF-8$/,
    },
    {
      kind: 'a declared content type that is not JSON',
      queue: 'customer.order-events',
      body: () => Buffer.from('<order/>'),
      options: {contentType: 'application/xml'},
      reason: /^content type application\/xml is not JSON/,
    },
    {
      kind: 'a NUL character in the order id',
      queue: 'customer.order-events',
      body: () => Buffer.from(orderCreated('o\u0000', randomUUID())),
      reason: /^data\.order_id contains a NUL character$/,
    },
    {
      kind: 'a customer id that is a number',
      queue: 'customer.order-events',
      body: () => Buffer.from(JSON.stringify({event: 'order_created', data: {order_id: randomUUID(), customer_id: 42}})),
      reason: /^data\.customer_id must be a uuid$/,
    },
  ]

  it.each(cases)('$kind ($queue)', async ({queue, body, options, reason}) => {
    const messageId = randomUUID()
    const content = body()
    await publishTo(queue, content, {...options, messageId})
    const letter = await rabbitLetter(queue, messageId)
    const h = letter.properties.headers ?? {}
    expect(h['x-error-class']).toBe('PoisonMessageError')
    expect(String(h['x-error-message'])).toMatch(reason)
    expect(h['x-attempts']).toBe(1)
    expect(h['x-original-queue']).toBe(platform.ns(queue))
    expect(Buffer.compare(letter.content, content)).toBe(0)
    expect(letter.properties.contentType).toBe(options?.contentType)
  })
})

describe('RabbitMQ: no content type means JSON', () => {
  it('a valid pulse with no properties at all is counted', async () => {
    const tenant = `no-props-${randomUUID()}`
    await publishTo('pulses', Buffer.from(pulse(tenant, '2.5')), {})
    await eventually(
      async () => {
        expect((await api('POST', '/ingest/flush')).status).toBe(200)
        const rows = (await api('GET', '/pulses?limit=1000')).body.items as {tenant: string; used_amount: string}[]
        return rows.find((r) => r.tenant === tenant)?.used_amount === '2.5'
      },
      {timeoutMs: 30_000, what: 'the pulse flushed'},
    )
  })

  it('a valid order_created with no content type is counted for its customer', async () => {
    const customer = (await created('/customers', {name: 'Ana', email: `${randomUUID()}@example.com`})).id
    await publishTo('customer.order-events', Buffer.from(orderCreated(randomUUID(), customer)), {})
    await eventually(async () => (await api('GET', `/customers/${customer}`)).body.orders_count === 1, {timeoutMs: 30_000, what: 'the order counted'})
  })
})

describe('after all of it', () => {
  it('every runner is still ready: a good order flows through both brokers to PAID, and a good pulse is flushed', async () => {
    const health = await api('GET', '/health')
    expect(health.status).toBe(200)
    expect(health.body.runners.map((r: {name: string; state: string}) => [r.name, r.state])).toEqual(
      ['customer', 'product', 'order', 'query', 'ingest'].map((n) => [n, 'ready']),
    )
    const counters = Object.fromEntries(health.body.runners.map((r: {name: string; counters: {deadLettered: number}}) => [r.name, r.counters.deadLettered]))
    // One per poison message and consumer above, and the stock.reserved product answered for the made-up order.
    expect(counters).toEqual({customer: 5, product: 6, order: 6, query: 20, ingest: 10})

    const customer = (await created('/customers', {name: 'Good', email: `${randomUUID()}@example.com`})).id
    const product = (await created('/products', {sku: `SKU-${randomUUID()}`, name: 'Yerba', price_cents: 990, stock: 3})).id
    const order = await created('/orders', {customer_id: customer, items: [{product_id: product, quantity: 1}]})
    await eventually(async () => (await api('GET', `/orders/${order.id}`)).body.status === 'RESERVED', {timeoutMs: 30_000, what: 'order RESERVED'})
    expect((await api('POST', `/orders/${order.id}/pay`)).body.status).toBe('PAID')
    const view = await eventually(
      async () => {
        const res = await api('GET', `/q/orders/${order.id}`)
        return res.body?.status === 'PAID' && res.body
      },
      {timeoutMs: 30_000, what: 'PAID in the read model'},
    )
    expect(view).toMatchObject({customer: {id: customer, name: 'Good'}, items: [{product_id: product, quantity: 1}], total_cents: 990})
    await eventually(async () => (await api('GET', `/customers/${customer}`)).body.orders_count === 1, {timeoutMs: 30_000, what: 'order counted (RabbitMQ)'})
    expect((await api('GET', `/products/${product}`)).body.stock).toBe(2)

    const tenant = `good-${randomUUID()}`
    await publishTo('pulses', Buffer.from(pulse(tenant, '0.1')), {contentType: 'application/json', messageId: randomUUID()})
    await eventually(
      async () => {
        await api('POST', '/ingest/flush')
        return (
          ((await api('GET', '/pulses?limit=1000')).body.items as {tenant: string; used_amount: string}[]).find((r) => r.tenant === tenant)?.used_amount ===
          '0.1'
        )
      },
      {timeoutMs: 30_000, what: 'the good pulse flushed'},
    )
  })
})
