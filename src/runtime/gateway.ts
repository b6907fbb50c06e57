import type {FastifyInstance} from 'fastify'

import type {Logger} from '../lib/logger.js'
import {freePort, isPortFree} from '../lib/ports.js'
import {
  clientErrorHandler,
  type GatewayError,
  installBodyParsers,
  rejectUnstorableText,
  renderError,
  schemaErrorFormatter,
  withoutBodyCoercion,
} from './http-input.js'
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

export const startGateway = async (opts: {
  host: string
  port: number
  logger: Logger
  reports: () => RunnerReport[]
  infra: () => Record<string, unknown>
  mounts?: Mounted[]
}): Promise<Gateway> => {
  const [{default: Fastify}, {default: ajvCompiler}] = await Promise.all([import('fastify'), import('@fastify/ajv-compiler')])
  const render = renderError(opts.logger)
  const app = Fastify({
    logger: false,
    // Unknown body fields are a 400 (schemas say additionalProperties: false), never silently dropped.
    ajv: {customOptions: {removeAdditional: false}},
    schemaController: {compilersFactory: {buildValidator: withoutBodyCoercion(ajvCompiler())}},
    schemaErrorFormatter,
    // Errors raised before routing (a path that is not valid percent-encoded UTF-8, a parameter over
    // the router's length limit) and by Node itself (oversized headers) use the same error shape.
    frameworkErrors: (error, req, reply) => render(error, req, reply),
    clientErrorHandler,
  })
  app.setErrorHandler((error: GatewayError, req, reply) => render(error, req, reply))
  installBodyParsers(app)
  app.addHook('preValidation', rejectUnstorableText)
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
