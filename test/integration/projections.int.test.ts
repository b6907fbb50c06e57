import {spawn} from 'node:child_process'
import {randomUUID} from 'node:crypto'
import {join} from 'node:path'

import {type Db, type Document, MongoClient} from 'mongodb'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {createCustomerRunner} from '../../services/customer/index.js'
import {createOrderRunner} from '../../services/order/index.js'
import {createProductRunner} from '../../services/product/index.js'
import {createQueryRunner} from '../../services/query/index.js'
import {shadowOf} from '../../services/query/rebuild.js'
import {lastRuns} from '../../services/query/runs.js'
import {rebuildProjections, type ProjectionsDeps, verifyProjections, type VerifyResult} from '../../src/operations/projections/index.js'
import {eventually, http, startTestPlatform, TEST_DEPS, type TestPlatform} from './harness.js'

/**
 * `mm projections verify | rebuild` against the real components: a view corrupted each way is
 * named by verify; a rebuild mends it while orders keep flowing and the verify after it is clean;
 * a rebuild killed midway, or interrupted, leaves the live views as they were.
 */
let p: TestPlatform
let mongo: MongoClient
let db: Db
let deps: ProjectionsDeps

const api = async (method: string, path: string, body?: unknown) => {
  const res = await http(p.url, method, path, body)
  if (res.status >= 400) throw new Error(`${method} ${path} → ${res.status} ${JSON.stringify(res.body)}`)
  return res.body
}
const newCustomer = async (name: string): Promise<string> => (await api('POST', '/customers', {name, email: `${randomUUID()}@example.com`})).id
const newProduct = async (name: string, stock = 100_000): Promise<string> =>
  (await api('POST', '/products', {sku: `SKU-${randomUUID().slice(0, 8)}`, name, price_cents: 1250, stock})).id
/** An order created, reserved, paid; resolves once the read model shows it PAID. */
const paidOrder = async (customer: string, products: string[]): Promise<string> => {
  const {id} = await api('POST', '/orders', {customer_id: customer, items: products.map((product_id, i) => ({product_id, quantity: i + 1}))})
  await eventually(async () => (await http(p.url, 'GET', `/orders/${id}`)).body.status === 'RESERVED', {timeoutMs: 30_000, what: `order ${id} reserved`})
  await api('POST', `/orders/${id}/pay`)
  await eventually(async () => (await http(p.url, 'GET', `/q/orders/${id}`)).body?.status === 'PAID', {
    timeoutMs: 30_000,
    what: `order ${id} PAID in the read model`,
  })
  return id
}

const verify = (extra: Partial<Parameters<typeof verifyProjections>[1]> = {}) => verifyProjections(deps, {limit: 100, timeoutMs: 60_000, ...extra})
const diffOf = (r: VerifyResult, id: string) => r.differences.find((d) => d.id === id)
/** Every document of the three views, by collection, sorted by _id. */
const snapshotViews = async () =>
  Object.fromEntries(
    await Promise.all(
      ['orders_view', 'products_view', 'customers_view'].map(async (c) => [c, await db.collection(c).find({}).sort({_id: 1}).toArray()] as const),
    ),
  )
const collections = async () => (await db.listCollections({}, {nameOnly: true}).toArray()).map((c) => c.name)

// Kept out of the traffic below, so their documents change only when the test changes them.
const quiet = {customers: [] as string[], products: [] as string[], orders: [] as string[]}
const busy = {customers: [] as string[], products: [] as string[]}
const ghost = randomUUID()

beforeAll(async () => {
  p = await startTestPlatform({
    label: 'projections',
    runners: [createCustomerRunner(TEST_DEPS), createProductRunner(TEST_DEPS), createOrderRunner(TEST_DEPS), createQueryRunner(TEST_DEPS)],
  })
  mongo = new MongoClient(p.endpoints.mongo, {directConnection: true})
  await mongo.connect()
  db = mongo.db(p.ns('mercadomio'))
  deps = {endpoints: p.endpoints, logger: p.logger, ns: p.ns}
  for (const name of ['Quiet Ana', 'Quiet Bea', 'Quiet Cid']) quiet.customers.push(await newCustomer(name))
  for (const name of ['Mate Gourd', 'Bombilla', 'Yerba 1kg']) quiet.products.push(await newProduct(name))
  for (const name of ['Busy Dan', 'Busy Eva', 'Busy Fay']) busy.customers.push(await newCustomer(name))
  for (const name of ['Alfajor', 'Dulce de leche']) busy.products.push(await newProduct(name))
  for (let i = 0; i < 5; i++) quiet.orders.push(await paidOrder(quiet.customers[i % 2]!, [quiet.products[0]!, quiet.products[1]!]))
})

afterAll(async () => {
  await mongo?.close()
  await p?.stop()
})

describe('mm projections verify', () => {
  it('finds nothing on a read model built by the platform', async () => {
    const r = await verify()
    expect(r.catchUp.caughtUp).toBe(true)
    expect(r.differences).toEqual([])
    expect(r.ok).toBe(true)
    expect(r.views.map((v) => v.view)).toEqual(['customers_view', 'products_view', 'orders_view'])
    const orders = r.views.find((v) => v.view === 'orders_view')!
    expect(orders).toMatchObject({rows: 5, documents: 5, matching: 5, differing: 0, missing: 0, extra: 0})
    expect((await lastRuns(db)).verify).toMatchObject({ok: true, differences: 0, caughtUp: true})
  })

  it('names each corruption: wrong status, wrong total, missing item, stale name, missing and extra documents, stock, orders_count', async () => {
    const [o1, o2, o3, o4, o5] = quiet.orders as [string, string, string, string, string]
    const orders = db.collection<Document>('orders_view')
    await orders.updateOne({_id: o1 as never}, {$set: {status: 'CANCELED'}})
    await orders.updateOne({_id: o2 as never}, {$inc: {total_cents: 1}})
    await orders.updateOne({_id: o3 as never}, {$pop: {items: 1}})
    await orders.updateOne({_id: o4 as never}, {$set: {'customer.name': 'Stale Name'}})
    await orders.deleteOne({_id: o5 as never})
    await db.collection<Document>('products_view').insertOne({
      _id: ghost as never,
      id: ghost,
      sku: 'GHOST-1',
      name: 'Ghost',
      price_cents: 1,
      stock: 1,
      created_at: new Date(),
      updated_at: new Date(),
      version: 1,
      fill_version: 1,
    })
    await db.collection<Document>('products_view').updateOne({_id: quiet.products[2] as never}, {$set: {stock: 999}})
    await db.collection<Document>('customers_view').updateOne({_id: quiet.customers[2] as never}, {$set: {orders_count: 7}})

    const r = await verify()
    expect(r.ok).toBe(false)
    expect(diffOf(r, o1)).toMatchObject({view: 'orders_view', kind: 'differs', fields: [{field: 'status', expected: 'PAID', actual: 'CANCELED'}]})
    const total = diffOf(r, o2)!.fields
    expect(total).toHaveLength(1)
    expect(total[0]).toMatchObject({field: 'total_cents', actual: (total[0]!.expected as number) + 1})
    expect(diffOf(r, o3)!.fields).toEqual([
      {
        field: 'items[1]',
        expected: {product_id: quiet.products[1], sku: expect.any(String), name: 'Bombilla', quantity: 2, unit_price_cents: 1250},
        actual: null,
      },
    ])
    expect(diffOf(r, o4)!.fields).toEqual([{field: 'customer.name', expected: 'Quiet Bea', actual: 'Stale Name'}])
    expect(diffOf(r, o5)).toMatchObject({view: 'orders_view', kind: 'missing', expected: {id: o5, status: 'PAID'}})
    expect(diffOf(r, ghost)).toMatchObject({view: 'products_view', kind: 'extra', actual: {sku: 'GHOST-1'}})
    expect(diffOf(r, quiet.products[2]!)!.fields).toEqual([{field: 'stock', expected: 100_000, actual: 999}])
    expect(diffOf(r, quiet.customers[2]!)!.fields).toEqual([{field: 'orders_count', expected: 0, actual: 7}])
    expect(r.total).toBe(8)
    expect(r.views).toEqual([
      expect.objectContaining({view: 'customers_view', differing: 1, missing: 0, extra: 0}),
      expect.objectContaining({view: 'products_view', differing: 1, missing: 0, extra: 1}),
      expect.objectContaining({view: 'orders_view', differing: 4, missing: 1, extra: 0, rows: 5, documents: 4}),
    ])
    expect((await lastRuns(db)).verify).toMatchObject({ok: false, differences: 8})

    // One view only, and the first N.
    const only = await verify({views: ['orders'], limit: 2})
    expect(only.views.map((v) => v.view)).toEqual(['orders_view'])
    expect(only.total).toBe(5)
    expect(only.differences).toHaveLength(2)
  })
})

describe('mm projections rebuild', () => {
  it('a rebuild killed midway leaves the live views as they were', async () => {
    const before = await snapshotViews()
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'support', 'rebuild-child.ts'), p.endpoints.postgres, p.endpoints.mongo, p.ns('mercadomio'), '2'],
      {stdio: ['ignore', 'pipe', 'pipe']},
    )
    let out = ''
    let err = ''
    child.stdout.on('data', (b: Buffer) => (out += b.toString()))
    child.stderr.on('data', (b: Buffer) => (err += b.toString()))
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()))
    await eventually(async () => out.includes('PAUSED') || (out.includes('FINISHED') ? Promise.reject(new Error('finished before pausing')) : false), {
      timeoutMs: 60_000,
      what: `the child rebuild to pause (stderr: ${err})`,
    })
    child.kill('SIGKILL')
    await exited
    expect(await snapshotViews()).toEqual(before)
    // The killed rebuild left its half-built shadow behind; the live views never saw it.
    expect(await collections()).toContain(shadowOf('orders_view'))
  })

  it('an interrupted rebuild drops its shadows and leaves the live views as they were', async () => {
    const before = await snapshotViews()
    const controller = new AbortController()
    const r = await rebuildProjections(deps, {
      limit: 10,
      timeoutMs: 60_000,
      batchSize: 2,
      signal: controller.signal,
      onProgress: (e) => {
        if (e.stage === 'rebuild' && e.phase === 'build' && e.view === 'orders_view') controller.abort()
      },
    })
    expect(r).toMatchObject({interrupted: true, ok: false})
    expect(r.verify).toBeUndefined()
    expect(await snapshotViews()).toEqual(before)
    expect((await collections()).filter((c) => c.endsWith('__rebuild'))).toEqual([])
    expect((await lastRuns(db)).rebuild).toMatchObject({interrupted: true, ok: false})
  })

  it('mends every corruption while orders keep flowing, and the verify after it is clean', async () => {
    let stop = false
    let placed = 0
    const failures: string[] = []
    // Two workers placing and paying orders; one renaming busy products now and then (names are copied into orders).
    const traffic = [0, 1].map(async (w) => {
      for (let i = 0; !stop; i++) {
        try {
          await paidOrder(busy.customers[(w + i) % busy.customers.length]!, i % 2 ? busy.products : [busy.products[w]!])
          placed++
          if (w === 0 && i % 3 === 2) await api('PATCH', `/products/${busy.products[1]}`, {name: `Dulce de leche ${i}`})
        } catch (error) {
          failures.push((error as Error).message)
        }
      }
    })
    try {
      await eventually(async () => placed >= 10, {timeoutMs: 60_000, what: 'orders flowing'})
      const r = await rebuildProjections(deps, {limit: 50, timeoutMs: 60_000, batchSize: 2})
      expect(r.swap).toBe('copy') // mongo-java-server cannot rename atomically
      expect(r.interrupted).toBe(false)
      expect(r.verify?.differences).toEqual([])
      expect(r.verify?.ok).toBe(true)
      expect(r.ok).toBe(true)
      const orders = r.views.find((v) => v.view === 'orders_view')!
      expect(orders.written).toBeGreaterThanOrEqual(5) // the four corrupted orders and the missing one
      expect(r.views.find((v) => v.view === 'products_view')!.removed).toBe(1) // the ghost
    } finally {
      stop = true
      await Promise.all(traffic)
    }
    expect(failures).toEqual([])
    const after = await verify()
    expect(after.differences).toEqual([])
    expect(after.ok).toBe(true)
    expect((await lastRuns(db)).rebuild).toMatchObject({ok: true, interrupted: false, swap: 'copy'})
    // The shadow the killed rebuild left is gone too.
    expect((await collections()).filter((c) => c.endsWith('__rebuild'))).toEqual([])
    const [o1, , o3, o4, o5] = quiet.orders
    const doc = (id: string) => db.collection<Document>('orders_view').findOne({_id: id as never})
    expect(await doc(o1!)).toMatchObject({status: 'PAID'})
    expect((await doc(o3!))?.items).toHaveLength(2)
    expect(await doc(o4!)).toMatchObject({customer: {name: 'Quiet Bea'}})
    expect(await doc(o5!)).toMatchObject({status: 'PAID'})
    expect(await db.collection('products_view').findOne({_id: ghost as never})).toBeNull()
  })

  it('renames the shadows in when asked to (nothing writing meanwhile), keeping the indexes', async () => {
    const indexes = async () => (await db.collection('orders_view').indexes()).map((i) => i.name).sort()
    const names = await indexes()
    await db.collection<Document>('orders_view').updateOne({_id: quiet.orders[0] as never}, {$set: {status: 'PENDING'}})
    const r = await rebuildProjections(deps, {limit: 10, timeoutMs: 60_000, swap: 'rename'})
    expect(r).toMatchObject({swap: 'rename', ok: true})
    expect(r.verify?.total).toBe(0)
    expect(await indexes()).toEqual(names)
    expect(await db.collection('orders_view').findOne({_id: quiet.orders[0] as never})).toMatchObject({status: 'PAID'})
    expect((await collections()).filter((c) => c.endsWith('__rebuild'))).toEqual([])
  })

  it('a dry run plans and changes nothing', async () => {
    const before = await snapshotViews()
    const r = await rebuildProjections(deps, {dryRun: true, limit: 10, timeoutMs: 60_000})
    expect(r).toMatchObject({dryRun: true, ok: false, swap: 'copy'})
    expect(r.plan.views.map((v) => v.view)).toEqual(['customers_view', 'products_view', 'orders_view'])
    expect(r.plan.views.every((v) => v.rows > 0 && v.rows === v.documents)).toBe(true)
    expect(await snapshotViews()).toEqual(before)
  })
})
