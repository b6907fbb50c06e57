import {randomUUID} from 'node:crypto'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {createCustomerRunner} from '../../services/customer/index.js'
import {createOrderRunner} from '../../services/order/index.js'
import {createProductRunner} from '../../services/product/index.js'
import {eventually, http, startTestPlatform, TEST_DEPS, type TestPlatform} from './harness.js'

/** The order flow across the real customer, product and order runners in one platform. */
let platform: TestPlatform

beforeAll(async () => {
  platform = await startTestPlatform({
    label: 'order-flow',
    runners: [createCustomerRunner(TEST_DEPS), createProductRunner(TEST_DEPS), createOrderRunner(TEST_DEPS)],
  })
})

afterAll(async () => {
  await platform?.stop()
})

const api = (method: string, path: string, body?: unknown) => http(platform.url, method, path, body)
const newCustomer = async (): Promise<string> => {
  const res = await api('POST', '/customers', {name: 'Ana', email: `${randomUUID()}@example.com`})
  expect(res.status).toBe(201)
  return res.body.id
}
const newProduct = async (price_cents: number, stock: number): Promise<string> => {
  const res = await api('POST', '/products', {sku: `SKU-${randomUUID()}`, name: 'Yerba', price_cents, stock})
  expect(res.status).toBe(201)
  return res.body.id
}
const stockOf = async (id: string): Promise<number> => (await api('GET', `/products/${id}`)).body.stock
const settled = (id: string, status: string) =>
  eventually(
    async () => {
      const order = (await api('GET', `/orders/${id}`)).body
      return order.status === status ? order : undefined
    },
    {timeoutMs: 30_000, what: `order ${id} ${status}`},
  )

describe('order flow with customer and product', () => {
  it('reserves stock automatically (PENDING → RESERVED), then pays', async () => {
    const customer = await newCustomer()
    const [a, b] = [await newProduct(1250, 5), await newProduct(300, 10)]
    const created = await api('POST', '/orders', {
      customer_id: customer,
      items: [
        {product_id: a, quantity: 2},
        {product_id: b, quantity: 4},
      ],
    })
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({status: 'PENDING', total_cents: 2 * 1250 + 4 * 300})
    await settled(created.body.id, 'RESERVED')
    expect(await stockOf(a)).toBe(3)
    expect(await stockOf(b)).toBe(6)
    const paid = await api('POST', `/orders/${created.body.id}/pay`)
    expect(paid.status).toBe(200)
    expect(paid.body.status).toBe('PAID')
  })

  it('cancels an order that cannot be served, leaving stock untouched', async () => {
    const customer = await newCustomer()
    const [plenty, scarce] = [await newProduct(100, 50), await newProduct(100, 1)]
    const created = await api('POST', '/orders', {
      customer_id: customer,
      items: [
        {product_id: plenty, quantity: 3},
        {product_id: scarce, quantity: 2},
      ],
    })
    expect(created.status).toBe(201)
    const order = await settled(created.body.id, 'CANCELED')
    expect(order.cancel_reason).toEqual(expect.stringContaining('insufficient_stock'))
    expect(await stockOf(plenty)).toBe(50)
    expect(await stockOf(scarce)).toBe(1)
  })

  it('gives the stock back when a RESERVED order is canceled', async () => {
    const customer = await newCustomer()
    const product = await newProduct(100, 4)
    const created = await api('POST', '/orders', {customer_id: customer, items: [{product_id: product, quantity: 3}]})
    await settled(created.body.id, 'RESERVED')
    expect(await stockOf(product)).toBe(1)
    expect((await api('POST', `/orders/${created.body.id}/cancel`, {reason: 'customer request'})).status).toBe(200)
    await eventually(async () => (await stockOf(product)) === 4, {timeoutMs: 30_000, what: 'stock released'})
  })

  it('counts the order on the customer through the RabbitMQ order.created', async () => {
    const customer = await newCustomer()
    const product = await newProduct(100, 10)
    await api('POST', '/orders', {customer_id: customer, items: [{product_id: product, quantity: 1}]})
    await api('POST', '/orders', {customer_id: customer, items: [{product_id: product, quantity: 1}]})
    await eventually(async () => (await api('GET', `/customers/${customer}`)).body.orders_count === 2, {timeoutMs: 30_000, what: 'orders_count 2'})
  })

  it('rejects unknown customers and products with 422', async () => {
    const product = await newProduct(100, 10)
    const noCustomer = await api('POST', '/orders', {customer_id: randomUUID(), items: [{product_id: product, quantity: 1}]})
    expect(noCustomer.status).toBe(422)
    expect(noCustomer.body.error.details.field).toBe('customer_id')
    const noProduct = await api('POST', '/orders', {
      customer_id: await newCustomer(),
      items: [
        {product_id: product, quantity: 1},
        {product_id: randomUUID(), quantity: 1},
      ],
    })
    expect(noProduct.status).toBe(422)
    expect(noProduct.body.error.details.field).toBe('items[1].product_id')
  })

  it('checks a basket out into an order that gets reserved', async () => {
    const customer = await newCustomer()
    const product = await newProduct(200, 10)
    await api('PUT', `/baskets/${customer}/items`, {product_id: product, quantity: 2})
    await api('PUT', `/baskets/${customer}/items`, {product_id: product, quantity: 1})
    const res = await api('POST', `/baskets/${customer}/checkout`)
    expect(res.status).toBe(201)
    expect(res.body.items).toEqual([{product_id: product, quantity: 3, unit_price_cents: 200}])
    await settled(res.body.id, 'RESERVED')
    expect(await stockOf(product)).toBe(7)
    expect((await api('GET', `/baskets/${customer}`)).body.items).toEqual([])
  })
})
