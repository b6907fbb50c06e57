import {randomUUID} from 'node:crypto'

import {Redis} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {createCustomerRunner} from '../../services/customer/index.js'
import {createIngestRunner} from '../../services/ingest/index.js'
import {createOrderRunner} from '../../services/order/index.js'
import {createProductRunner} from '../../services/product/index.js'
import {eventually, http, startTestPlatform, TEST_DEPS, type TestPlatform} from './harness.js'

/** Bad input answered with a clean 4xx `{"error":{code, message, details?}}`, never a 200 that stores junk or a 500. */
let platform: TestPlatform
let redis: Redis

beforeAll(async () => {
  platform = await startTestPlatform({
    label: 'bad-input',
    runners: [createCustomerRunner(TEST_DEPS), createProductRunner(TEST_DEPS), createOrderRunner(TEST_DEPS), createIngestRunner(TEST_DEPS)],
  })
  redis = new Redis(platform.endpoints.redis)
})

afterAll(async () => {
  redis?.disconnect()
  await platform?.stop()
})

const api = (method: string, path: string, body?: unknown) => http(platform.url, method, path, body)
/** A request with exactly this content-type and raw body (possibly empty). */
const raw = async (method: string, path: string, body: string, contentType = 'application/json') => {
  const res = await fetch(`${platform.url}${path}`, {method, headers: {'content-type': contentType}, body})
  const text = await res.text()
  return {status: res.status, body: text ? JSON.parse(text) : undefined}
}
const newCustomer = async (): Promise<string> => {
  const res = await api('POST', '/customers', {name: 'Ana', email: `${randomUUID()}@example.com`})
  expect(res.status).toBe(201)
  return res.body.id
}
const newProduct = async (stock = 10): Promise<string> => {
  const res = await api('POST', '/products', {sku: `SKU-${randomUUID()}`, name: 'Yerba', price_cents: 990, stock})
  expect(res.status).toBe(201)
  return res.body.id
}
const basketExists = async (customer: string) => (await redis.exists(platform.ns(`basket:${customer}`))) === 1
const expectError = (res: {status: number; body: any}, status: number, code?: string) => {
  expect(res.status, JSON.stringify(res.body)).toBe(status)
  expect(res.body.error).toEqual(expect.objectContaining({code: code ?? expect.any(String), message: expect.any(String)}))
  expect(res.body.error.message).not.toBe('internal error')
}

describe('baskets of customers and products that do not exist', () => {
  it('PUT /baskets/abc/items is a 404 (not a customer id) and stores nothing', async () => {
    const res = await api('PUT', '/baskets/abc/items', {product_id: 'abc', quantity: 1})
    expectError(res, 404, 'not_found')
    expect(res.body.error.message).toBe('customer abc not found')
    expect(await basketExists('abc')).toBe(false)
    expectError(await api('GET', '/baskets/abc'), 404, 'not_found')
  })

  it('an unknown customer is a 422 naming customer_id, and no basket is stored', async () => {
    const ghost = randomUUID()
    const res = await api('PUT', `/baskets/${ghost}/items`, {product_id: await newProduct(), quantity: 1})
    expectError(res, 422, 'unprocessable')
    expect(res.body.error.message).toContain('customer_id')
    expect(res.body.error.details).toMatchObject({field: 'customer_id'})
    expect(await basketExists(ghost)).toBe(false)
  })

  it.each([
    ['an unknown product', () => randomUUID()],
    ['a malformed product id', () => 'abc'],
  ])('%s is a 422 naming product_id, and no basket is stored', async (_what, productId) => {
    const customer = await newCustomer()
    const product = productId()
    const res = await api('PUT', `/baskets/${customer}/items`, {product_id: product, quantity: 1})
    expectError(res, 422, 'unprocessable')
    expect(res.body.error.message).toBe(`product_id: product ${product} not found`)
    expect(res.body.error.details).toMatchObject({field: 'product_id', product_id: product})
    expect(await basketExists(customer)).toBe(false)
  })

  it('a real customer and product still go into the basket', async () => {
    const [customer, product] = [await newCustomer(), await newProduct()]
    const res = await api('PUT', `/baskets/${customer}/items`, {product_id: product, quantity: 2})
    expect(res.status).toBe(200)
    expect(res.body.items).toEqual([{product_id: product, quantity: 2}])
  })
})

describe('list bounds', () => {
  it.each(['/customers', '/products'])('%s?offset=99999999999999999999 is a 400 naming offset, not a 500', async (path) => {
    const res = await api('GET', `${path}?offset=99999999999999999999`)
    expectError(res, 400, 'invalid_request')
    expect(res.body.error.message).toContain('offset')
  })

  it.each(['/customers', '/products'])('%s?limit=99999999999999999999 is a 400 naming limit', async (path) => {
    const res = await api('GET', `${path}?limit=99999999999999999999`)
    expectError(res, 400, 'invalid_request')
    expect(res.body.error.message).toContain('limit')
  })

  it.each(['/customers', '/products'])('%s answers the largest offset allowed with an empty page', async (path) => {
    const res = await api('GET', `${path}?offset=${Number.MAX_SAFE_INTEGER}`)
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({items: [], offset: Number.MAX_SAFE_INTEGER})
  })

  it.each([
    ['page', '/pulses?page=99999999999999999999'],
    ['limit', '/pulses?limit=99999999999999999999'],
  ])('/pulses with a huge %s is a 400 naming it', async (field, path) => {
    const res = await api('GET', path)
    expectError(res, 400, 'invalid_request')
    expect(res.body.error.message).toContain(field)
  })
})

describe('body-less actions sent as application/json with an empty body', () => {
  const order = async (): Promise<string> => {
    const res = await api('POST', '/orders', {customer_id: await newCustomer(), items: [{product_id: await newProduct(), quantity: 1}]})
    expect(res.status).toBe(201)
    return res.body.id
  }
  const status = (id: string, wanted: string) =>
    eventually(async () => ((await api('GET', `/orders/${id}`)).body.status === wanted ? true : undefined), {timeoutMs: 30_000, what: `order ${id} ${wanted}`})

  it('POST /orders/:id/pay is accepted', async () => {
    const id = await order()
    await status(id, 'RESERVED')
    const res = await raw('POST', `/orders/${id}/pay`, '')
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    expect(res.body.status).toBe('PAID')
  })

  it('POST /orders/:id/cancel is accepted (no reason)', async () => {
    const res = await raw('POST', `/orders/${await order()}/cancel`, '')
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    expect(res.body.status).toBe('CANCELED')
  })

  it('malformed JSON is still a 400', async () => {
    const id = await order()
    const res = await raw('POST', `/orders/${id}/cancel`, '{"reason":')
    expectError(res, 400)
    expect((await api('GET', `/orders/${id}`)).body.status).not.toBe('CANCELED')
  })

  it('an empty body where one is required is a 400, not a 500', async () => {
    expectError(await raw('POST', '/orders', ''), 400)
    expectError(await raw('POST', '/customers', ''), 400)
  })

  it('a JSON content-type with parameters is parsed the same way', async () => {
    const res = await raw('POST', `/orders/${await order()}/cancel`, '{"reason":"changed my mind"}', 'application/json; charset=utf-8')
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    expect(res.body.status).toBe('CANCELED')
  })
})
