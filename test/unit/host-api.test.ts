import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {emptyCounters, type PlatformApi} from '../../services/shared/runner.js'
import {loadConfig} from '../../src/config/index.js'
import {silentLogger} from '../../src/lib/logger.js'
import {startPlatform, type PlatformHost} from '../../src/runtime/host.js'

/**
 * Calls between components (PlatformApi) when the gateway is elsewhere (`mm run`, MM_API_URL): real
 * HTTP through the CLI's one client (src/lib/http.ts), answers as they come, failures as errors.
 */
let api: Server
let host: PlatformHost
let platformApi: PlatformApi

beforeAll(async () => {
  api = createServer((req, res) => {
    if (req.url === '/slow') return void setTimeout(() => res.end('{}'), 2000)
    res.writeHead(req.url === '/customers/x' ? 404 : 200, {'content-type': 'application/json'}).end(JSON.stringify({path: req.url}))
  })
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve))
  const apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`
  const config = loadConfig({env: {MM_API_URL: apiUrl, MM_TRACE: 'off', MM_HTTP_PORT: '0'}, cwd: '/nonexistent'})
  const endpoints = {postgres: 'postgres://-', redis: 'redis://-', rabbitmq: 'amqp://-', rabbitmqManagement: 'http://-', kafka: ['-:1'], mongo: 'mongodb://-'}
  host = await startPlatform({
    config,
    endpoints,
    logger: silentLogger,
    port: 0,
    runners: [
      {
        name: 'probe',
        start: async (ctx) => {
          platformApi = ctx.api
          return {stopped: new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve())), counters: emptyCounters}
        },
      },
    ],
  })
})

afterAll(async () => {
  await host?.stop()
  api.closeAllConnections()
  await new Promise((resolve) => api.close(resolve))
})

describe('PlatformApi over HTTP (MM_API_URL)', () => {
  it('GETs from the API named by MM_API_URL, statuses and JSON as they come', async () => {
    expect(platformApi.url()).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(await platformApi.get('/products?ids=a,b', 1000)).toEqual({status: 200, body: {path: '/products?ids=a,b'}})
    expect(await platformApi.get('/customers/x', 1000)).toEqual({status: 404, body: {path: '/customers/x'}})
  })

  it('fails past its timeout, saying it could not reach the API', async () => {
    await expect(platformApi.get('/slow', 100)).rejects.toThrow(
      /^cannot reach the platform API at http:\/\/127\.0\.0\.1:\d+: The operation was aborted due to timeout$/,
    )
  })
})
