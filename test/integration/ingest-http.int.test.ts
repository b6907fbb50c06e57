import {randomUUID} from 'node:crypto'

import amqp from 'amqplib'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {createIngestRunner} from '../../services/ingest/index.js'
import {eventually, http, startTestPlatform, TEST_DEPS, type TestPlatform} from './harness.js'

/** The HTTP surface of ingest (PLATFORM.md §3.5): POST /ingest/flush, GET /pulses, GET /pulses/:id. */
describe('ingest HTTP', () => {
  let p: TestPlatform
  const tag = `http-${randomUUID()}`

  beforeAll(async () => {
    p = await startTestPlatform({label: 'ingest-http', runners: [createIngestRunner(TEST_DEPS)]})
    const conn = await amqp.connect(p.endpoints.rabbitmq)
    try {
      const ch = await conn.createConfirmChannel()
      for (let i = 0; i < 7; i++) {
        const body = `{"tenant":"${tag}","product_sku":"sku-${i}","use_unity":"u","used_amount":0.${i + 1}}`
        ch.sendToQueue(p.ns('pulses'), Buffer.from(body), {messageId: `${tag}-${i}`})
      }
      await ch.waitForConfirms()
    } finally {
      await conn.close()
    }
  })
  afterAll(async () => {
    await p?.stop()
  })

  it('POST /ingest/flush moves the aggregates and reports keys and rows', async () => {
    const status = await eventually(
      async () => {
        const s = await http(p.url, 'GET', '/ingest/status?top=3')
        return s.body.pendingKeys === 7 ? s.body : undefined
      },
      {what: '7 live aggregate keys'},
    )
    expect(status.top.map((t: {product_sku: string; amount: string}) => [t.product_sku, t.amount])).toEqual([
      ['sku-6', '0.7'],
      ['sku-5', '0.6'],
      ['sku-4', '0.5'],
    ])
    const flushed = await http(p.url, 'POST', '/ingest/flush')
    expect(flushed.status).toBe(200)
    expect(flushed.body).toMatchObject({keys: 7, rows: 7, resumed: []})
    expect(flushed.body.flushId).toMatch(/^[0-9a-f-]{36}$/)
    expect(flushed.body.durationMs).toBeGreaterThanOrEqual(0)
    const again = await http(p.url, 'POST', '/ingest/flush')
    expect(again.body).toMatchObject({flushId: null, keys: 0, rows: 0})
    const after = await http(p.url, 'GET', '/ingest/status')
    expect(after.body).toMatchObject({pendingKeys: 0, pendingFlushes: 0, lastFlush: {flushId: null, keys: 0}})
  })

  it('pages GET /pulses in id order with exact decimal strings', async () => {
    const all = await http(p.url, 'GET', '/pulses?limit=1000')
    expect(all.status).toBe(200)
    expect(all.body).toMatchObject({page: 1, limit: 1000, total: 7, pages: 1})
    expect(all.body.items.map((r: {product_sku: string; used_amount: string}) => [r.product_sku, r.used_amount]).sort()).toEqual(
      Array.from({length: 7}, (_, i) => [`sku-${i}`, `0.${i + 1}`]),
    )
    const ids = all.body.items.map((r: {id: number}) => r.id)
    expect(ids).toEqual([...ids].sort((a, b) => a - b))
    const first = await http(p.url, 'GET', '/pulses?page=1&limit=3')
    const second = await http(p.url, 'GET', '/pulses?page=2&limit=3')
    const third = await http(p.url, 'GET', '/pulses?page=3&limit=3')
    expect([first, second, third].map((r) => r.body.items.length)).toEqual([3, 3, 1])
    expect([...first.body.items, ...second.body.items, ...third.body.items].map((r: {id: number}) => r.id)).toEqual(ids)
    expect(first.body.pages).toBe(3)
    expect((await http(p.url, 'GET', '/pulses')).body).toMatchObject({page: 1, limit: 50})
    expect((await http(p.url, 'GET', '/pulses?page=99')).body.items).toEqual([])
  })

  it('GET /pulses/:id returns one row, 404 when missing', async () => {
    const all = await http(p.url, 'GET', '/pulses')
    const row = all.body.items[0]
    expect(await http(p.url, 'GET', `/pulses/${row.id}`)).toEqual({status: 200, body: row})
    expect(Object.keys(row).sort()).toEqual(['id', 'product_sku', 'tenant', 'updated_at', 'use_unity', 'used_amount'])
    const missing = await http(p.url, 'GET', '/pulses/999999999')
    expect(missing.status).toBe(404)
    expect(missing.body.error).toMatchObject({code: 'not_found', message: 'pulse 999999999 not found'})
    expect((await http(p.url, 'GET', '/pulses/9223372036854775808')).status).toBe(404)
    expect((await http(p.url, 'GET', '/pulses/abc')).status).toBe(400)
    expect((await http(p.url, 'GET', '/pulses/99999999999999999999')).status).toBe(400)
  })

  it('rejects bad page and limit with 400 naming the field', async () => {
    for (const query of ['page=0', 'page=-1', 'page=abc', 'page=1.5', 'limit=0', 'limit=1001', 'limit=x', 'limit=2.5']) {
      const res = await http(p.url, 'GET', `/pulses?${query}`)
      expect(res.status, query).toBe(400)
      expect(res.body.error.code, query).toBe('invalid_request')
      expect(res.body.error.message, query).toMatch(query.startsWith('page') ? /page/ : /limit/)
      expect(JSON.stringify(res.body), query).not.toMatch(/at .*\.js/) // no stack trace
    }
  })
})
