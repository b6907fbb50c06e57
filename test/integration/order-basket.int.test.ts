import {randomUUID} from 'node:crypto'

import {Redis} from 'ioredis'
import pg from 'pg'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {createOrderRunner} from '../../services/order/index.js'
import {http, routesRunner, startTestPlatform, TEST_DEPS, type TestPlatform} from './harness.js'
import {uniqueName} from './isolation.js'

/** Baskets in real Redis; a stub runner serves customers and products (every product costs 150 unless unknown). */
const unknownProducts = new Set<string>()
/** Product lookups held until the test opens the gate (to add items while a checkout runs). */
const gates = new Map<string, {reached: () => void; open: Promise<void>}>()
const catalogStub = routesRunner('catalog-stub', (app) => {
  app.get<{Params: {id: string}}>('/customers/:id', async (req) => ({id: req.params.id, name: 'Ana', email: 'ana@example.com'}))
  app.get<{Querystring: {ids?: string}}>('/products', async (req) => {
    const ids = (req.query.ids ?? '').split(',')
    for (const id of ids) {
      const gate = gates.get(id)
      gates.delete(id) // holds one lookup only
      if (gate) {
        gate.reached()
        await gate.open
      }
    }
    const items = ids.filter((id) => !unknownProducts.has(id)).map((id) => ({id, sku: 'SKU', name: 'Mate', price_cents: 150, stock: 10}))
    return {items, limit: 100, offset: 0, total: items.length}
  })
})

let platform: TestPlatform
let redis: Redis
let db: pg.Client

beforeAll(async () => {
  platform = await startTestPlatform({label: 'order-basket', runners: [catalogStub, createOrderRunner(TEST_DEPS)]})
  redis = new Redis(platform.endpoints.redis)
  db = new pg.Client({connectionString: platform.endpoints.postgres})
  await db.connect()
})

afterAll(async () => {
  redis?.disconnect()
  await db?.end()
  await platform?.stop()
})

const basketKey = (customer: string) => platform.ns(`basket:${customer}`)
const put = (customer: string, product_id: string, quantity: number) => http(platform.url, 'PUT', `/baskets/${customer}/items`, {product_id, quantity})
const get = (customer: string) => http(platform.url, 'GET', `/baskets/${customer}`)
const checkout = (customer: string, headers: Record<string, string> = {}) => http(platform.url, 'POST', `/baskets/${customer}/checkout`, undefined, headers)
const orderCount = async (customer: string) =>
  (await db.query(`SELECT count(*)::int AS n FROM "order".orders WHERE customer_id = $1`, [customer])).rows[0].n as number

describe('baskets', () => {
  it('adds quantities up in a Redis hash whose 24 h TTL every write refreshes', async () => {
    const customer = randomUUID()
    const [a, b] = [randomUUID(), randomUUID()]
    expect((await put(customer, a, 2)).status).toBe(200)
    const res = await put(customer, a, 3)
    expect(res.body.items).toEqual([{product_id: a, quantity: 5}])
    expect(await redis.hgetall(basketKey(customer))).toEqual({[a]: '5'})
    const ttl = await redis.ttl(basketKey(customer))
    expect(ttl).toBeGreaterThan(86_390)
    expect(ttl).toBeLessThanOrEqual(86_400)
    await redis.expire(basketKey(customer), 100)
    await put(customer, b, 1)
    expect(await redis.ttl(basketKey(customer))).toBeGreaterThan(86_390)
    await redis.expire(basketKey(customer), 100)
    await http(platform.url, 'DELETE', `/baskets/${customer}/items/${b}`)
    expect(await redis.ttl(basketKey(customer))).toBeGreaterThan(86_390)
  })

  it('deletes an item, and an empty or unknown basket is 200 with no items', async () => {
    const customer = randomUUID()
    const [a, b] = [randomUUID(), randomUUID()]
    await put(customer, a, 1)
    await put(customer, b, 4)
    const res = await http(platform.url, 'DELETE', `/baskets/${customer}/items/${a}`)
    expect(res.status).toBe(200)
    expect(res.body.items).toEqual([{product_id: b, quantity: 4}])
    await http(platform.url, 'DELETE', `/baskets/${customer}/items/${b}`)
    expect(await redis.exists(basketKey(customer))).toBe(0)
    const empty = await get(customer)
    expect(empty.status).toBe(200)
    expect(empty.body).toMatchObject({customer_id: customer, items: []})
    expect((await get(randomUUID())).body.items).toEqual([])
  })

  it('rejects a quantity below 1 or not an integer with 400 naming the field', async () => {
    for (const quantity of [0, -1, 1.5]) {
      const res = await put(randomUUID(), randomUUID(), quantity)
      expect(res.status).toBe(400)
      expect(res.body.error.message).toContain('quantity')
    }
  })

  it('checks out into an order with the basket quantities and empties the basket after the commit', async () => {
    const customer = randomUUID()
    const [a, b] = [randomUUID(), randomUUID()].sort() as [string, string]
    await put(customer, a, 2)
    await put(customer, b, 1)
    await put(customer, a, 1)
    const res = await checkout(customer)
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({status: 'PENDING', customer_id: customer, total_cents: 4 * 150})
    expect(res.body.items).toEqual([
      {product_id: a, quantity: 3, unit_price_cents: 150},
      {product_id: b, quantity: 1, unit_price_cents: 150},
    ])
    expect((await http(platform.url, 'GET', `/orders/${res.body.id}`)).status).toBe(200)
    expect(await redis.exists(basketKey(customer))).toBe(0)
    expect((await get(customer)).body.items).toEqual([])
  })

  it('refuses to check out an empty basket with 422', async () => {
    const res = await checkout(randomUUID())
    expect(res.status).toBe(422)
    expect(res.body.error.message).toContain('is empty')
  })

  it('keeps the basket when checkout fails validation', async () => {
    const customer = randomUUID()
    const ghost = randomUUID()
    expect((await put(customer, ghost, 1)).status).toBe(200)
    unknownProducts.add(ghost) // gone between adding it and checking out
    const res = await checkout(customer)
    expect(res.status).toBe(422)
    expect(res.body.error.message).toContain(`product ${ghost} not found`)
    expect(await redis.hgetall(basketKey(customer))).toEqual({[ghost]: '1'})
    expect(await orderCount(customer)).toBe(0)
  })

  it('creates one order when checkout is submitted twice at once or resubmitted', async () => {
    const customer = randomUUID()
    await put(customer, randomUUID(), 2)
    const both = await Promise.all([checkout(customer), checkout(customer), checkout(customer)])
    expect(both.filter((r) => r.status === 201)).toHaveLength(1)
    for (const r of both.filter((x) => x.status !== 201)) expect([409, 422]).toContain(r.status)
    expect((await checkout(customer)).status).toBe(422)
    expect(await orderCount(customer)).toBe(1)
  })

  it('answers the same order to a checkout retried with its Idempotency-Key, leaving the new basket alone', async () => {
    const customer = randomUUID()
    const key = uniqueName('checkout')
    await put(customer, randomUUID(), 1)
    const first = await checkout(customer, {'idempotency-key': key})
    expect(first.status).toBe(201)
    const later = randomUUID()
    await put(customer, later, 7)
    const retry = await checkout(customer, {'idempotency-key': key})
    expect(retry.status).toBe(201)
    expect(retry.body.id).toBe(first.body.id)
    expect(await redis.hgetall(basketKey(customer))).toEqual({[later]: '7'})
    expect(await orderCount(customer)).toBe(1)
  })

  it('keeps items added while a checkout runs', async () => {
    const customer = randomUUID()
    const [slow, added] = [randomUUID(), randomUUID()]
    let open!: () => void
    await put(customer, slow, 1)
    const reached = new Promise<void>((resolve) => gates.set(slow, {reached: resolve, open: new Promise<void>((r) => (open = r))}))
    const pending = checkout(customer)
    await reached
    await put(customer, slow, 2)
    await put(customer, added, 1)
    open()
    const res = await pending
    expect(res.status).toBe(201)
    expect(res.body.items).toEqual([{product_id: slow, quantity: 1, unit_price_cents: 150}])
    expect(await redis.hgetall(basketKey(customer))).toEqual({[slow]: '2', [added]: '1'})
    expect(await redis.ttl(basketKey(customer))).toBeGreaterThan(86_390)
  })
})
