import type {FastifyInstance} from 'fastify'

import type {Logger} from '../lib/logger.js'
import {freePort, isPortFree} from '../lib/ports.js'
import type {RunnerReport} from './supervisor.js'

export interface Gateway {
  url: string
  app: FastifyInstance
  close(): Promise<void>
}

/**
 * The one HTTP port of `mm up` (PLATFORM.md §3.6): `GET /health` with every runner's state and
 * counters, and the components' routes under their paths. Errors are JSON, never stack traces.
 */
export interface Mounted {
  name: string
  routes: (app: FastifyInstance) => void | Promise<void>
}

export const startGateway = async (opts: {host: string; port: number; logger: Logger; reports: () => RunnerReport[]; infra: () => Record<string, unknown>; mounts?: Mounted[]}): Promise<Gateway> => {
  const {default: Fastify} = await import('fastify')
  // Unknown body fields are a 400 (schemas say additionalProperties: false), never silently dropped.
  const app = Fastify({logger: false, ajv: {customOptions: {removeAdditional: false}}})
  app.setErrorHandler((error: {statusCode?: number; code?: string; message: string; validation?: unknown; details?: unknown; name?: string}, req, reply) => {
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500
    if (status >= 500) opts.logger.error('http.error', {method: req.method, url: req.url, error: error.message})
    const code = error.validation ? 'invalid_request' : error.name === 'HttpError' ? error.code : status >= 500 ? 'internal' : status === 415 ? 'unsupported_media_type' : 'bad_request'
    const details = error.validation ?? error.details
    void reply.status(status).send({error: {code, message: status >= 500 ? 'internal error' : error.message, ...(details === undefined ? {} : {details})}})
  })
  // A body-less action (POST /orders/:id/pay) sent with `content-type: application/json` and no
  // body is no body at all, not a 400; malformed JSON stays a 400 (Fastify's own parser, with its
  // prototype-poisoning protection, parses everything else).
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', {parseAs: 'string'}, (req, body, done) => {
    if (body === '') {
      done(null, undefined)
      return
    }
    parseJson(req, body as string, done)
  })
  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send({error: {code: 'not_found', message: `no route for ${req.method} ${req.url.split('?')[0]}`}})
  })
  app.get('/health', async (_req, reply) => {
    const runners = opts.reports()
    const ok = runners.every((r) => r.state === 'ready')
    return reply.status(ok ? 200 : 503).send({status: ok ? 'ok' : 'degraded', pid: process.pid, runners, ...opts.infra()})
  })

  for (const mount of opts.mounts ?? []) {
    // Each component in its own encapsulated scope: its hooks (request counters) stay its own.
    await app.register(async (scope) => {
      await mount.routes(scope)
    })
  }

  let port = opts.port
  if (port !== 0 && !(await isPortFree(port, opts.host))) {
    const taken = port
    port = await freePort(opts.host)
    opts.logger.warn('gateway.port_taken', {wanted: taken, using: port})
  }
  await app.listen({host: opts.host, port})
  const address = app.server.address()
  const actual = typeof address === 'object' && address ? address.port : port
  const url = `http://${opts.host}:${actual}`
  return {url, app, close: () => app.close()}
}
