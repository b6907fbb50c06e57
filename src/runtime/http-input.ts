import {maxHeaderSize, STATUS_CODES} from 'node:http'
import type {Socket} from 'node:net'

import type {BuildCompilerFromPool} from '@fastify/ajv-compiler'
import type {FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions} from 'fastify'

import {HttpError} from '../../services/shared/errors.js'
import {findTextFault, utf8Text} from '../../services/shared/text.js'
import type {Logger} from '../lib/logger.js'

/**
 * How the gateway reads what a client sends and answers what is wrong with it (PLATFORM.md §3.6):
 * every failure, including those Fastify and Node answer before a route runs, is
 * `{"error":{code, message, details?}}` with a message naming the problem; a 5xx says no more than
 * "internal error".
 */
export interface GatewayError {
  statusCode?: number
  code?: string
  message: string
  validation?: unknown
  details?: unknown
  name?: string
}

const CODES: Record<number, string> = {404: 'not_found', 413: 'payload_too_large', 414: 'uri_too_long', 415: 'unsupported_media_type'}

export const renderError =
  (logger: Logger) =>
  (error: GatewayError, req: FastifyRequest, reply: FastifyReply): void => {
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500
    if (status >= 500) logger.error('http.error', {method: req.method, url: req.url, error: error.message})
    const code = error.validation ? 'invalid_request' : error.name === 'HttpError' ? error.code : status >= 500 ? 'internal' : (CODES[status] ?? 'bad_request')
    const details = error.validation ?? error.details
    void reply.status(status).send({error: {code, message: status >= 500 ? 'internal error' : error.message, ...(details === undefined ? {} : {details})}})
  }

/** Fastify's validation message, naming the offending property or the allowed values where Ajv only says that there is one. */
export const schemaErrorFormatter: NonNullable<FastifyServerOptions['schemaErrorFormatter']> = (errors, dataVar) =>
  new Error(
    errors
      .map((e) => {
        const hint =
          e.keyword === 'additionalProperties'
            ? `: ${String(e.params.additionalProperty)}`
            : e.keyword === 'enum'
              ? `: ${(e.params.allowedValues as unknown[]).join(', ')}`
              : ''
        return `${dataVar}${e.instancePath} ${e.message}${hint}`
      })
      .join(', '),
  )

/**
 * Query strings and path parameters are text, so their numbers are coerced (`?limit=5`); a JSON
 * body carries its own types, so "5", null or true where an integer is expected is a 400 there,
 * never 5, 0 or 1 (nor 42 a name "42"), as Ajv's coercion would have it.
 */
export const withoutBodyCoercion =
  (fromPool: BuildCompilerFromPool) => (externals: Parameters<BuildCompilerFromPool>[0], options: Parameters<BuildCompilerFromPool>[1]) => {
    const coercing = fromPool(externals, options) as unknown as (route: {httpPart?: string}) => unknown
    const strict = fromPool(externals, {
      ...options,
      customOptions: {...options?.customOptions, coerceTypes: false},
    } as typeof options) as unknown as typeof coercing
    return ((route: {httpPart?: string}) => (route.httpPart === 'body' ? strict : coercing)(route)) as unknown as ReturnType<BuildCompilerFromPool>
  }

const badRequest = (message: string, details?: unknown) => new HttpError(400, 'bad_request', message, details)
const UTF8 = /^utf-?8$/i

/** Why Fastify's parser (prototype-poisoning protection included) refused text. */
const jsonProblem = (text: string): string => {
  try {
    JSON.parse(text)
  } catch (error) {
    return `body is not valid JSON: ${(error as Error).message}`
  }
  return 'body has a "__proto__" key or a "constructor": {"prototype": …} path, which are not allowed'
}

/**
 * JSON bodies only, in UTF-8 (never decoded with silent U+FFFD replacements), and with no string
 * holding NUL or an unpaired surrogate (PostgreSQL cannot store them as text). A body-less action
 * (POST /orders/:id/pay) sent with a content-type and no body is no body at all, not a 400.
 * Anything else with a body (text/plain, a form, no content-type at all) is a 415.
 */
export const installBodyParsers = (app: FastifyInstance): void => {
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('application/json', {parseAs: 'buffer'}, (req, body, done) => {
    const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(req.headers['content-type'] ?? '')?.[1]
    if (charset !== undefined && !UTF8.test(charset))
      return done(new HttpError(415, 'unsupported_media_type', `charset ${charset} is not supported: send the JSON body as UTF-8`), undefined)
    if (body.length === 0) return done(null, undefined)
    const text = utf8Text(body as Buffer)
    if (text === undefined) return done(badRequest('body is not valid UTF-8'), undefined)
    parseJson(req, text, (error, parsed) => {
      if (error) return done(badRequest(jsonProblem(text)), undefined)
      const bad = findTextFault(parsed)
      if (bad) return done(badRequest(`${['body', ...bad.path].join('/')} ${bad.fault}`), undefined)
      done(null, parsed)
    })
  })
  app.addContentTypeParser('*', {parseAs: 'buffer'}, (req, body, done) => {
    if (body.length === 0) return done(null, undefined)
    const type = req.headers['content-type']
    done(
      new HttpError(
        415,
        'unsupported_media_type',
        type ? `content-type ${type} is not supported: send application/json` : 'a request body needs content-type: application/json',
      ),
      undefined,
    )
  })
}

/** Path parameters and query strings obey the body's text rule (a NUL would reach PostgreSQL). */
export const rejectUnstorableText = async (req: FastifyRequest): Promise<void> => {
  for (const [part, value] of [
    ['params', req.params],
    ['querystring', req.query],
  ] as const) {
    const bad = findTextFault(value)
    if (bad) throw badRequest(`${[part, ...bad.path].join('/')} ${bad.fault}`)
  }
}

/**
 * What Node answers before Fastify sees a request (a request line and headers over the limit, a
 * malformed request), in the same error shape.
 */
export const clientErrorHandler = (error: NodeJS.ErrnoException, socket: Socket): void => {
  if (error.code === 'ECONNRESET' || socket.destroyed) return
  const [status, code, message] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'headers_too_large', `the request line and headers are larger than ${maxHeaderSize / 1024} KiB`]
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'request_timeout', 'the request did not arrive in time']
        : [400, 'bad_request', `malformed HTTP request (${error.code ?? error.message})`]
  const body = JSON.stringify({error: {code, message}})
  if (socket.writable)
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`,
    )
  socket.destroy(error)
}
