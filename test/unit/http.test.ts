import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {NOT_UP_HINT, UserError} from '../../src/lib/errors.js'
import {createApi} from '../../src/lib/http.js'

/** The CLI's one HTTP client of the platform API (src/lib/http.ts): mm load, mm seed, mm status's /health, mm run's calls between components. */
let server: Server
let base: string
const seen: {method?: string; url?: string; type?: string; body: string}[] = []

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk: Buffer) => (body += chunk.toString()))
    req.on('end', () => {
      seen.push({method: req.method, url: req.url, type: req.headers['content-type'], body})
      if (req.url === '/slow') return void setTimeout(() => res.end('{}'), 2000)
      if (req.url === '/text') return void res.writeHead(502).end('bad gateway')
      if (req.url === '/empty') return void res.writeHead(204).end()
      res.writeHead(req.method === 'POST' ? 201 : 200, {'content-type': 'application/json'}).end(JSON.stringify({echo: body ? JSON.parse(body) : null}))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

describe('createApi', () => {
  it('sends JSON and parses the JSON answer, whatever the status', async () => {
    const r = await createApi(base).request('POST', '/orders', {a: 1}, {'idempotency-key': 'k'})
    expect(r).toEqual({status: 201, body: {echo: {a: 1}}})
    expect(seen.at(-1)).toMatchObject({method: 'POST', url: '/orders', type: 'application/json'})
  })

  it('keeps an answer that is not JSON as text, and an empty one as undefined', async () => {
    expect(await createApi(base).request('GET', '/text')).toEqual({status: 502, body: 'bad gateway'})
    expect(await createApi(base).request('GET', '/empty')).toEqual({status: 204, body: undefined})
  })

  it('gives up past timeoutMs: cannot reach the platform API, with the one hint and the cause', async () => {
    const error = await createApi(base)
      .request('GET', '/slow', undefined, undefined, {timeoutMs: 100})
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(UserError)
    expect((error as UserError).message).toBe(`cannot reach the platform API at ${base}: The operation was aborted due to timeout`)
    expect((error as UserError).hint).toBe(NOT_UP_HINT)
    expect((error as UserError).cause).toBeInstanceOf(Error)
  })

  it('says so when nothing listens', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`
    await new Promise((resolve) => closed.close(resolve))
    const error = await createApi(url)
      .request('GET', '/health')
      .catch((e: unknown) => e)
    expect((error as UserError).message).toMatch(new RegExp(`^cannot reach the platform API at ${url}: connect ECONNREFUSED`))
    expect(((error as UserError).cause as Error).message).toMatch(/ECONNREFUSED/)
  })
})
