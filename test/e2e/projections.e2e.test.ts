import {randomUUID} from 'node:crypto'
import {chmodSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'

import {MongoClient} from 'mongodb'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {eventually, http} from '../support/poll.js'
import {json, mm} from './cli.js'

// Under /tmp so the postgres user can reach the data directory.
const cwd = mkdtempSync('/tmp/mm-e2e-projections-')
chmodSync(cwd, 0o755)
const mongoUrl = () => (JSON.parse(readFileSync(`${cwd}/.mm/state.json`, 'utf8')) as {servers: Record<string, {url: string}>}).servers.mongo!.url

let api = ''
/** JSON over HTTP against the platform's gateway (test/support/poll.ts). */
const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => http(api, method, path, body, headers)

const VIEW_SHAPE = {
  view: expect.any(String),
  rows: expect.any(Number),
  documents: expect.any(Number),
  matching: expect.any(Number),
  differing: expect.any(Number),
  missing: expect.any(Number),
  extra: expect.any(Number),
  unsettled: expect.any(Number),
  untracked: expect.any(Number),
}
const VERIFY_SHAPE = {
  at: expect.any(String),
  ok: expect.any(Boolean),
  catchUp: {caughtUp: expect.any(Boolean), waitedMs: expect.any(Number), unpublished: expect.any(Number), pendingEvents: expect.any(Number)},
  views: [VIEW_SHAPE, VIEW_SHAPE, VIEW_SHAPE],
  total: expect.any(Number),
  differences: expect.any(Array),
  unsettled: expect.any(Number),
  rows: expect.any(Number),
  documents: expect.any(Number),
  durationMs: expect.any(Number),
  docsPerSec: expect.any(Number),
  interrupted: false,
}

/** `mm projections verify | rebuild` through the built CLI against a native platform: exit codes and --json shapes. */
describe('mm projections (built CLI, native platform)', () => {
  let order = ''

  beforeAll(async () => {
    const r = await mm(['up', '--infra', 'native', '-d', '--http-port', '0', '--json'], {cwd})
    expect(r.exitCode, r.stderr).toBe(0)
    api = json<{endpoints: {name: string; url: string}[]}>(r).endpoints.find((e) => e.name === 'gateway')!.url
    const customer = await call('POST', '/customers', {name: 'Ana Souza', email: `ana.${randomUUID()}@example.test`})
    const product = await call('POST', '/products', {sku: `SKU-${randomUUID().slice(0, 8)}`, name: 'Lamp', price_cents: 1250, stock: 50})
    for (let i = 0; i < 3; i++) {
      const created = await call('POST', '/orders', {customer_id: customer.body.id, items: [{product_id: product.body.id, quantity: 1}]})
      expect(created.status).toBe(201)
      order = created.body.id
      await eventually(async () => (await call('GET', `/orders/${order}`)).body.status === 'RESERVED', {what: 'reserved', timeoutMs: 30_000})
      expect((await call('POST', `/orders/${order}/pay`)).status).toBe(200)
    }
    const drained = await mm(['wait', '--for', 'drained', '--timeout', '60s'], {cwd})
    expect(drained.exitCode, drained.stdout + drained.stderr).toBe(0)
  })

  afterAll(async () => {
    await mm(['down', '-v'], {cwd})
    rmSync(cwd, {recursive: true, force: true})
  })

  it('without a platform, says to start one (exit 1)', async () => {
    const empty = mkdtempSync('/tmp/mm-e2e-projections-none-')
    try {
      for (const args of [
        ['projections', 'verify'],
        ['projections', 'rebuild', '--yes'],
      ]) {
        const r = await mm(args, {cwd: empty})
        expect(r.exitCode).toBe(1)
        expect(r.stderr).toContain('mm up')
      }
    } finally {
      rmSync(empty, {recursive: true, force: true})
    }
  })

  it('an unknown view is a usage error (exit 2) naming the views', async () => {
    const r = await mm(['projections', 'verify', 'nope_view', '--json'], {cwd})
    expect(r.exitCode).toBe(2)
    expect(json<{error: {code: string; hint: string}}>(r).error).toMatchObject({code: 'usage', hint: expect.stringContaining('orders_view')})
  })

  it('verify --json on a consistent platform: exit 0 and the documented shape', async () => {
    const r = await mm(['projections', 'verify', '--json'], {cwd})
    expect(r.exitCode, r.stderr).toBe(0)
    const v = json(r)
    expect(v).toEqual(VERIFY_SHAPE)
    expect(v).toMatchObject({ok: true, total: 0, differences: [], catchUp: {caughtUp: true}})
    expect((v.views as {view: string}[]).map((x) => x.view)).toEqual(['customers_view', 'products_view', 'orders_view'])
    expect((v.views as {view: string; rows: number}[]).find((x) => x.view === 'orders_view')!.rows).toBe(3)
  })

  it('verify finds a corrupted document: exit 1, the difference with both values (JSON and text)', async () => {
    const mongo = new MongoClient(mongoUrl(), {directConnection: true})
    try {
      await mongo
        .db('mercadomio')
        .collection<{_id: string}>('orders_view')
        .updateOne({_id: order}, {$set: {status: 'CANCELED'}})
    } finally {
      await mongo.close()
    }
    const r = await mm(['projections', 'verify', 'orders_view', '--json'], {cwd})
    expect(r.exitCode, r.stderr).toBe(1)
    const v = json<{ok: boolean; total: number; views: unknown[]; differences: unknown[]}>(r)
    expect(v).toMatchObject({ok: false, total: 1})
    expect(v.views).toHaveLength(1)
    expect(v.differences).toEqual([{view: 'orders_view', id: order, kind: 'differs', fields: [{field: 'status', expected: 'PAID', actual: 'CANCELED'}]}])
    const text = await mm(['projections', 'verify'], {cwd})
    expect(text.exitCode).toBe(1)
    expect(text.stdout).toMatch(/status\s+expected PAID\s+actual CANCELED/)
    expect(text.stdout).toContain('1 difference in 1 view')
  })

  it('rebuild without a terminal needs --yes (exit 2) and changes nothing', async () => {
    const r = await mm(['projections', 'rebuild'], {cwd})
    expect(r.exitCode).toBe(2)
    expect(r.stderr).toContain('--yes')
    expect(r.stdout).toBe('')
  })

  it('rebuild --dry-run --json plans without changing anything (exit 0)', async () => {
    const r = await mm(['projections', 'rebuild', '--dry-run', '--json'], {cwd})
    expect(r.exitCode, r.stderr).toBe(0)
    expect(json(r)).toMatchObject({
      dryRun: true,
      ok: false,
      swap: 'copy',
      plan: {swap: 'copy', views: [{view: 'customers_view'}, {view: 'products_view'}, {view: 'orders_view', rows: 3, documents: 3}]},
      views: [],
    })
    expect((await mm(['projections', 'verify', '--json'], {cwd})).exitCode).toBe(1) // still corrupted
  })

  it('rebuild --yes --json mends it and ends with a clean verify (exit 0); status --json reports both runs', async () => {
    const r = await mm(['projections', 'rebuild', '--yes', '--json'], {cwd})
    expect(r.exitCode, r.stderr).toBe(0)
    const b = json<Record<string, unknown>>(r)
    expect(b).toMatchObject({
      ok: true,
      dryRun: false,
      declined: false,
      interrupted: false,
      swap: 'copy',
      documents: expect.any(Number),
      docsPerSec: expect.any(Number),
      durationMs: expect.any(Number),
    })
    expect(b.views).toEqual(
      ['customers_view', 'products_view', 'orders_view'].map((view) => ({
        view,
        built: expect.any(Number),
        caughtUp: expect.any(Number),
        written: expect.any(Number),
        removed: expect.any(Number),
        afterSwap: expect.any(Number),
      })),
    )
    expect((b.views as {view: string; written: number}[]).find((v) => v.view === 'orders_view')!.written).toBe(1)
    expect(b.verify).toEqual({...VERIFY_SHAPE, ok: true, total: 0})

    const s = await mm(['status', '--json'], {cwd})
    expect(s.exitCode, s.stderr).toBe(0)
    const projections = json<{platform: {projections: Record<string, unknown>}}>(s).platform.projections
    expect(projections.lastVerify).toMatchObject({at: expect.any(String), ok: true, differences: 0, caughtUp: true, views: expect.any(Array)})
    expect(projections.lastRebuild).toMatchObject({
      at: expect.any(String),
      ok: true,
      swap: 'copy',
      interrupted: false,
      changed: 1,
      views: ['customers_view', 'products_view', 'orders_view'],
    })
    const text = await mm(['status'], {cwd})
    expect(text.stdout).toMatch(/last verify \S+ ago: no differences; last rebuild \S+ ago: verified/)
  })
})
