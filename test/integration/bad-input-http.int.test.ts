import {randomUUID} from 'node:crypto'

import pg from 'pg'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {allRunners, eventually, http, startTestPlatform, type TestPlatform} from './harness.js'

/**
 * Bad input over HTTP, on every route of every component (issue 10, item 4): each kind is answered
 * with the exact 4xx and `{"error":{code, message, details?}}` naming what was wrong — never a 500,
 * "internal error" or a stack trace, and never a 2xx that stores junk — and afterwards every runner
 * still serves a good request. test/integration/bad-input.int.test.ts has the kinds found earlier.
 */
let platform: TestPlatform
/** A customer, a product (stock 1000, 990 cents) and a CANCELED order of them. */
const fx = {customer: '', product: '', order: ''}

beforeAll(async () => {
  platform = await startTestPlatform({
    label: 'bad-input-http',
    runners: allRunners(),
  })
  fx.customer = (await created('/customers', {name: 'Ana', email: `${randomUUID()}@example.com`})).id
  fx.product = (await created('/products', {sku: `SKU-${randomUUID()}`, name: 'Yerba', price_cents: 990, stock: 1000})).id
  fx.order = (await created('/orders', {customer_id: fx.customer, items: [{product_id: fx.product, quantity: 1}]})).id
  expect((await api('POST', `/orders/${fx.order}/cancel`, {reason: 'fixture'})).status).toBe(200)
  // Product may reserve the fixture order before it sees the cancel: until it has applied the
  // cancel (the same statement releases the stock), the stock can read 999 for a moment.
  const pool = new pg.Pool({connectionString: platform.endpoints.postgres})
  try {
    await eventually(async () => (await pool.query('SELECT 1 FROM product.canceled_orders WHERE order_id = $1', [fx.order])).rowCount === 1, {
      what: 'the fixture order canceled in product',
    })
  } finally {
    await pool.end()
  }
})

afterAll(async () => {
  await platform?.stop()
})

interface Res {
  status: number
  text: string
  body: any
}

const api = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => http(platform.url, method, path, body, headers)
const created = async (path: string, body: unknown) => {
  const res = await api('POST', path, body)
  expect(res.status, JSON.stringify(res.body)).toBe(201)
  return res.body
}

/** A request with exactly these bytes and content-type (none when `type` is null). */
const send = async (
  method: string,
  path: string,
  body?: string | Buffer,
  type: string | null = 'application/json',
  headers: Record<string, string> = {},
): Promise<Res> => {
  const res = await fetch(`${platform.url}${path}`, {
    method,
    headers: {...(type === null ? {} : {'content-type': type}), ...headers},
    // A Uint8Array carries no content-type of its own (a string would be sent as text/plain).
    body: body === undefined ? undefined : new Uint8Array(Buffer.from(body)),
  })
  const text = await res.text()
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    parsed = undefined
  }
  return {status: res.status, text, body: parsed}
}
const json = (method: string, path: string, body: unknown, headers?: Record<string, string>) =>
  send(method, path, JSON.stringify(body), 'application/json', headers)

/** Exactly this status, the error shape, this code and a message saying what was wrong. */
const expectError = (res: Res, status: number, code: string, message: RegExp) => {
  expect(res.status, res.text.slice(0, 500)).toBe(status)
  expect(Object.keys(res.body ?? {}), res.text.slice(0, 500)).toEqual(['error'])
  expect(res.body.error).toEqual(expect.objectContaining({code, message: expect.any(String)}))
  expect(Object.keys(res.body.error).every((k) => ['code', 'message', 'details'].includes(k))).toBe(true)
  expect(res.body.error.message).toMatch(message)
  expect(res.body.error.message).not.toMatch(/internal error|\n\s+at /)
}

interface Case {
  kind: string
  send: () => Promise<Res>
  status: number
  code: string
  message: RegExp
  /** What must not have happened (nothing stored, nothing changed). */
  unchanged?: () => Promise<void>
}

const productStock = async () => (await api('GET', `/products/${fx.product}`)).body.stock as number
const customerName = async () => (await api('GET', `/customers/${fx.customer}`)).body.name as string
const newSku = () => `SKU-${randomUUID()}`
const noProductWithSku = (sku: string) => async () => {
  const all = await api('GET', '/products?limit=500')
  expect(all.body.items.map((p: {sku: string}) => p.sku)).not.toContain(sku)
}
const huge = 'x'.repeat(2 * 1024 * 1024)

/** Every case reads the fixtures when it runs (they do not exist yet when the table is built). */
const line = () => ({product_id: fx.product, quantity: 1})
const [skuA, skuB, skuC] = [newSku(), newSku(), newSku()]

const cases: Case[] = [
  // --- bodies that are not the JSON they claim to be -------------------------------------
  {
    kind: 'malformed JSON (a truncated object), POST /customers',
    send: () => send('POST', '/customers', '{"name":"Ana","email":'),
    status: 400,
    code: 'bad_request',
    message: /^body is not valid JSON: /,
  },
  {
    kind: 'JSON followed by trailing garbage, PUT /customers/:id',
    send: () => send('PUT', `/customers/${fx.customer}`, '{"name":"Bea"} and more'),
    status: 400,
    code: 'bad_request',
    message: /^body is not valid JSON: /,
    unchanged: async () => expect(await customerName()).toBe('Ana'),
  },
  {
    kind: 'a body that is not UTF-8, POST /products',
    send: () =>
      send(
        'POST',
        '/products',
        Buffer.concat([Buffer.from(`{"sku":"${skuA}","name":"Caf`), Buffer.from([0xe9, 0xff]), Buffer.from('","price_cents":1,"stock":1}')]),
      ),
    status: 400,
    code: 'bad_request',
    message: /^body is not valid UTF-8$/,
    unchanged: noProductWithSku(skuA),
  },
  {
    kind: 'JSON declared in a charset other than UTF-8, POST /customers',
    send: () => send('POST', '/customers', Buffer.from('{"name":"José","email":"jose@example.com"}', 'latin1'), 'application/json; charset=iso-8859-1'),
    status: 415,
    code: 'unsupported_media_type',
    message: /charset iso-8859-1 is not supported/,
  },
  {
    kind: 'wrong content type (text/plain), POST /orders',
    send: () => send('POST', '/orders', JSON.stringify({customer_id: fx.customer, items: [line()]}), 'text/plain'),
    status: 415,
    code: 'unsupported_media_type',
    message: /content-type text\/plain is not supported: send application\/json/,
  },
  {
    kind: 'wrong content type (a form), PATCH /products/:id',
    send: () => send('PATCH', `/products/${fx.product}`, 'stock=0', 'application/x-www-form-urlencoded'),
    status: 415,
    code: 'unsupported_media_type',
    message: /x-www-form-urlencoded is not supported/,
    unchanged: async () => expect(await productStock()).toBe(1000),
  },
  {
    kind: 'a body with no content type at all, PUT /baskets/:customer_id/items',
    send: () => send('PUT', `/baskets/${fx.customer}/items`, JSON.stringify(line()), null),
    status: 415,
    code: 'unsupported_media_type',
    message: /needs content-type: application\/json/,
  },
  {
    kind: 'a text/plain body on a body-less action, POST /ingest/flush',
    send: () => send('POST', '/ingest/flush', 'now please', 'text/plain'),
    status: 415,
    code: 'unsupported_media_type',
    message: /text\/plain is not supported/,
  },
  {
    kind: 'malformed JSON on a body-less action, POST /orders/:id/pay',
    send: () => send('POST', `/orders/${fx.order}/pay`, '{'),
    status: 400,
    code: 'bad_request',
    message: /^body is not valid JSON/,
  },
  {
    kind: 'a body over the 1 MiB limit, POST /products',
    send: () => json('POST', '/products', {sku: newSku(), name: huge, price_cents: 1, stock: 1}),
    status: 413,
    code: 'payload_too_large',
    message: /too large/,
  },
  {
    kind: 'a text field far over its length limit, POST /customers',
    send: () => json('POST', '/customers', {name: 'x'.repeat(100_000), email: 'long@example.com'}),
    status: 400,
    code: 'invalid_request',
    message: /^body\/name must NOT have more than 200 characters$/,
  },
  {
    kind: 'more order lines than allowed, POST /orders',
    send: () => json('POST', '/orders', {customer_id: fx.customer, items: Array.from({length: 101}, () => line())}),
    status: 400,
    code: 'invalid_request',
    message: /^body\/items must NOT have more than 100 items$/,
  },
  {
    kind: 'JSON nested 100,000 levels deep, POST /customers',
    send: () => send('POST', '/customers', `{"name":${'['.repeat(100_000)}${']'.repeat(100_000)},"email":"deep@example.com"}`),
    status: 400,
    code: 'invalid_request',
    message: /^body\/name must be string$/,
  },

  // --- the wrong shapes and types ----------------------------------------------------------
  {
    kind: 'a JSON array instead of an object, POST /customers',
    send: () => send('POST', '/customers', '[]'),
    status: 400,
    code: 'invalid_request',
    message: /^body must be object$/,
  },
  {
    kind: 'JSON null instead of an object, POST /orders',
    send: () => send('POST', '/orders', 'null'),
    status: 400,
    code: 'invalid_request',
    message: /^body must be object$/,
  },
  {
    kind: 'a JSON string instead of an object, PATCH /products/:id',
    send: () => send('PATCH', `/products/${fx.product}`, '"stock=0"'),
    status: 400,
    code: 'invalid_request',
    message: /^body must be object$/,
  },
  {
    kind: 'a string where an integer is expected, POST /products',
    send: () => json('POST', '/products', {sku: skuB, name: 'Mate', price_cents: '990', stock: 1}),
    status: 400,
    code: 'invalid_request',
    message: /^body\/price_cents must be integer$/,
    unchanged: noProductWithSku(skuB),
  },
  {
    kind: 'null where an integer is expected, PATCH /products/:id',
    send: () => json('PATCH', `/products/${fx.product}`, {stock: null}),
    status: 400,
    code: 'invalid_request',
    message: /^body\/stock must be integer$/,
    unchanged: async () => expect(await productStock()).toBe(1000),
  },
  {
    kind: 'a boolean where an integer is expected, PUT /baskets/:customer_id/items',
    send: () => json('PUT', `/baskets/${fx.customer}/items`, {product_id: fx.product, quantity: true}),
    status: 400,
    code: 'invalid_request',
    message: /^body\/quantity must be integer$/,
  },
  {
    kind: 'a number where a string is expected, PUT /customers/:id',
    send: () => json('PUT', `/customers/${fx.customer}`, {name: 42}),
    status: 400,
    code: 'invalid_request',
    message: /^body\/name must be string$/,
    unchanged: async () => expect(await customerName()).toBe('Ana'),
  },
  {
    kind: 'an object where an array is expected, POST /orders',
    send: () => json('POST', '/orders', {customer_id: fx.customer, items: {0: line()}}),
    status: 400,
    code: 'invalid_request',
    message: /^body\/items must be array$/,
  },
  {
    kind: 'a fractional quantity, POST /orders',
    send: () => json('POST', '/orders', {customer_id: fx.customer, items: [{product_id: fx.product, quantity: 1.5}]}),
    status: 400,
    code: 'invalid_request',
    message: /^body\/items\/0\/quantity must be integer$/,
  },
  {
    kind: 'a negative stock, POST /products',
    send: () => json('POST', '/products', {sku: newSku(), name: 'Mate', price_cents: 1, stock: -1}),
    status: 400,
    code: 'invalid_request',
    message: /^body\/stock must be >= 0$/,
  },
  {
    kind: 'a zero quantity, PUT /baskets/:customer_id/items',
    send: () => json('PUT', `/baskets/${fx.customer}/items`, {product_id: fx.product, quantity: 0}),
    status: 400,
    code: 'invalid_request',
    message: /^body\/quantity must be >= 1$/,
  },
  {
    kind: 'an order without items, POST /orders',
    send: () => json('POST', '/orders', {customer_id: fx.customer, items: []}),
    status: 400,
    code: 'invalid_request',
    message: /^body\/items must NOT have fewer than 1 items$/,
  },
  {
    kind: 'a missing required field, POST /products',
    send: () => json('POST', '/products', {name: 'Mate', price_cents: 1, stock: 1}),
    status: 400,
    code: 'invalid_request',
    message: /^body must have required property 'sku'$/,
  },
  {
    kind: 'an unknown field, POST /customers',
    send: () => json('POST', '/customers', {name: 'Eve', email: `${randomUUID()}@example.com`, is_admin: true}),
    status: 400,
    code: 'invalid_request',
    message: /^body must NOT have additional properties: is_admin$/,
  },
  {
    kind: 'an invalid email, PUT /customers/:id',
    send: () => json('PUT', `/customers/${fx.customer}`, {email: 'not-an-email'}),
    status: 400,
    code: 'invalid_request',
    message: /^body\/email must match format "email"$/,
  },
  {
    kind: 'a blank name, PATCH /products/:id',
    send: () => json('PATCH', `/products/${fx.product}`, {name: '   '}),
    status: 400,
    code: 'invalid_request',
    message: /^body\/name must match pattern/,
  },
  {
    kind: 'an empty change set, PUT /customers/:id',
    send: () => json('PUT', `/customers/${fx.customer}`, {}),
    status: 400,
    code: 'invalid_request',
    message: /^body must NOT have fewer than 1 properties$/,
  },
  {
    kind: 'a cancel reason of the wrong type, POST /orders/:id/cancel',
    send: () => json('POST', `/orders/${fx.order}/cancel`, {reason: 5}),
    status: 400,
    code: 'invalid_request',
    message: /^body\/reason must be string/,
  },
  {
    kind: 'a duplicate email, POST /customers',
    send: async () => json('POST', '/customers', {name: 'Ana', email: (await api('GET', `/customers/${fx.customer}`)).body.email}),
    status: 409,
    code: 'conflict',
    message: /^a customer with email .* already exists$/,
  },
  {
    kind: 'a duplicate sku, POST /products',
    send: async () => json('POST', '/products', {sku: (await api('GET', `/products/${fx.product}`)).body.sku, name: 'Again', price_cents: 1, stock: 1}),
    status: 409,
    code: 'conflict',
    message: /^a product with sku .* already exists$/,
  },
  {
    kind: 'a transition the status does not allow, POST /orders/:id/pay',
    send: () => send('POST', `/orders/${fx.order}/pay`),
    status: 409,
    code: 'conflict',
    message: /is CANCELED; only RESERVED orders can be paid/,
  },
  {
    kind: 'an empty Idempotency-Key, POST /orders',
    send: () => json('POST', '/orders', {customer_id: fx.customer, items: [line()]}, {'idempotency-key': ''}),
    status: 400,
    code: 'invalid_request',
    message: /^headers\/idempotency-key must NOT have fewer than 1 characters$/,
  },
  {
    kind: 'an Idempotency-Key reused for another order, POST /orders',
    send: async () => {
      const key = randomUUID()
      expect((await json('POST', '/orders', {customer_id: fx.customer, items: [line()]}, {'idempotency-key': key})).status).toBe(201)
      return json('POST', '/orders', {customer_id: fx.customer, items: [{...line(), quantity: 2}]}, {'idempotency-key': key})
    },
    status: 422,
    code: 'unprocessable',
    message: /^Idempotency-Key ".*" was already used with a different request body/,
  },

  // --- numbers past 2^53 -------------------------------------------------------------------
  {
    kind: 'an integer past 2^53, POST /products',
    send: () => send('POST', '/products', `{"sku":"${skuC}","name":"Mate","price_cents":9007199254740993,"stock":1}`),
    status: 400,
    code: 'invalid_request',
    message: /^body\/price_cents must be <= 2147483647$/,
    unchanged: noProductWithSku(skuC),
  },
  {
    kind: 'a number past the double range (1e400), PUT /baskets/:customer_id/items',
    send: () => send('PUT', `/baskets/${fx.customer}/items`, `{"product_id":"${fx.product}","quantity":1e400}`),
    status: 400,
    code: 'invalid_request',
    message: /^body\/quantity must be integer$/,
  },
  {
    kind: 'an order total past 2^53, POST /orders',
    send: async () => {
      const items = []
      for (let i = 0; i < 5; i++)
        items.push({product_id: (await created('/products', {sku: newSku(), name: 'Gold', price_cents: 2_147_483_647, stock: 1})).id, quantity: 1_000_000})
      return json('POST', '/orders', {customer_id: fx.customer, items})
    },
    status: 422,
    code: 'unprocessable',
    message: /^items: the order total is too large$/,
  },
  {
    kind: 'a list limit past 2^53, GET /orders',
    send: () => send('GET', '/orders?limit=9007199254740993'),
    status: 400,
    code: 'invalid_request',
    message: /^querystring\/limit must be <= 100$/,
  },
  {
    kind: 'a numeric id past 64 bits, GET /pulses/:id',
    send: () => send('GET', '/pulses/99999999999999999999'),
    status: 400,
    code: 'invalid_request',
    message: /^params\/id must match pattern/,
  },

  // --- prototype keys ----------------------------------------------------------------------
  {
    kind: 'a __proto__ key, POST /customers',
    send: () => send('POST', '/customers', `{"name":"Eve","email":"${randomUUID()}@example.com","__proto__":{"orders_count":99}}`),
    status: 400,
    code: 'bad_request',
    message: /"__proto__" key/,
  },
  {
    kind: 'a __proto__ key inside an order line, POST /orders',
    send: () => send('POST', '/orders', `{"customer_id":"${fx.customer}","items":[{"product_id":"${fx.product}","quantity":1,"__proto__":{"quantity":0}}]}`),
    status: 400,
    code: 'bad_request',
    message: /"__proto__" key/,
  },
  {
    kind: 'a constructor.prototype path, PUT /baskets/:customer_id/items',
    send: () => send('PUT', `/baskets/${fx.customer}/items`, `{"product_id":"${fx.product}","quantity":1,"constructor":{"prototype":{"quantity":5}}}`),
    status: 400,
    code: 'bad_request',
    message: /"constructor": \{"prototype"/,
  },

  // --- NUL and unpaired surrogates ---------------------------------------------------------
  {
    kind: 'a NUL character in a text field, POST /customers',
    send: () => json('POST', '/customers', {name: 'A\u0000na', email: `${randomUUID()}@example.com`}),
    status: 400,
    code: 'bad_request',
    message: /^body\/name contains a NUL character$/,
  },
  {
    kind: 'an unpaired surrogate in a text field, PATCH /products/:id',
    send: () => json('PATCH', `/products/${fx.product}`, {name: 'Yerba \ud800'}),
    status: 400,
    code: 'bad_request',
    message: /^body\/name contains an unpaired UTF-16 surrogate$/,
  },
  {
    kind: 'a NUL character in free text, POST /orders/:id/cancel',
    send: () => json('POST', `/orders/${fx.order}/cancel`, {reason: 'why\u0000'}),
    status: 400,
    code: 'bad_request',
    message: /^body\/reason contains a NUL character$/,
  },
  {
    kind: 'an unpaired surrogate in an id, PUT /baskets/:customer_id/items',
    send: () => json('PUT', `/baskets/${fx.customer}/items`, {product_id: '\udc00', quantity: 1}),
    status: 400,
    code: 'bad_request',
    message: /^body\/product_id contains an unpaired UTF-16 surrogate$/,
  },
  {
    kind: 'a NUL character in a key, POST /products',
    send: () => json('POST', '/products', {sku: newSku(), name: 'Mate', price_cents: 1, stock: 1, 'a\u0000': 1}),
    status: 400,
    code: 'bad_request',
    message: /^body has a key that contains a NUL character$/,
  },
  {
    kind: 'a NUL character in a query string, GET /orders',
    send: () => send('GET', '/orders?customer_id=%00'),
    status: 400,
    code: 'bad_request',
    message: /^querystring\/customer_id contains a NUL character$/,
  },
  {
    kind: 'a NUL character in a query string, GET /q/orders',
    send: () => send('GET', '/q/orders?customer_id=a%00b'),
    status: 400,
    code: 'bad_request',
    message: /^querystring\/customer_id contains a NUL character$/,
  },
  {
    kind: 'a NUL character in a path, GET /q/orders/:id',
    send: () => send('GET', '/q/orders/%00'),
    status: 400,
    code: 'bad_request',
    message: /^params\/id contains a NUL character$/,
  },
  {
    kind: 'a path that is not percent-encoded UTF-8, GET /customers/:id',
    send: () => send('GET', '/customers/%ED%A0%80'),
    status: 400,
    code: 'bad_request',
    message: /is not a valid url component/,
  },
  {
    kind: 'a path id longer than the router accepts, GET /products/:id',
    send: () => send('GET', `/products/${'p'.repeat(150)}`),
    status: 414,
    code: 'uri_too_long',
    message: /max param length/,
  },
  {
    kind: 'a URL larger than the header limit, GET /q/products',
    send: () => send('GET', `/q/products?limit=1&pad=${'x'.repeat(20_000)}`),
    status: 431,
    code: 'headers_too_large',
    message: /larger than 16 KiB/,
  },

  // --- ids that do not exist ---------------------------------------------------------------
  {
    kind: 'an unknown customer id, GET /customers/:id',
    send: () => send('GET', `/customers/${randomUUID()}`),
    status: 404,
    code: 'not_found',
    message: /^customer [0-9a-f-]{36} not found$/,
  },
  {
    kind: 'an unknown customer id, PUT /customers/:id',
    send: () => json('PUT', `/customers/${randomUUID()}`, {name: 'Zoe'}),
    status: 404,
    code: 'not_found',
    message: /^customer [0-9a-f-]{36} not found$/,
  },
  {
    kind: 'a product id that is not a uuid, GET /products/:id',
    send: () => send('GET', '/products/not-a-uuid'),
    status: 404,
    code: 'not_found',
    message: /^product not-a-uuid not found$/,
  },
  {
    kind: 'an unknown product id, PATCH /products/:id',
    send: () => json('PATCH', `/products/${randomUUID()}`, {stock: 1}),
    status: 404,
    code: 'not_found',
    message: /^product [0-9a-f-]{36} not found$/,
  },
  {
    kind: 'an unknown order id, GET /orders/:id',
    send: () => send('GET', `/orders/${randomUUID()}`),
    status: 404,
    code: 'not_found',
    message: /^order [0-9a-f-]{36} not found$/,
  },
  {
    kind: 'an unknown order id, POST /orders/:id/pay',
    send: () => send('POST', `/orders/${randomUUID()}/pay`),
    status: 404,
    code: 'not_found',
    message: /^order [0-9a-f-]{36} not found$/,
  },
  {
    kind: 'an order id that is not a uuid, POST /orders/:id/cancel',
    send: () => send('POST', '/orders/42/cancel'),
    status: 404,
    code: 'not_found',
    message: /^order 42 not found$/,
  },
  {
    kind: 'an unknown order id, GET /q/orders/:id',
    send: () => send('GET', `/q/orders/${randomUUID()}`),
    status: 404,
    code: 'not_found',
    message: /^order [0-9a-f-]{36} not found$/,
  },
  {
    kind: 'an unknown pulse id, GET /pulses/:id',
    send: () => send('GET', '/pulses/123456789'),
    status: 404,
    code: 'not_found',
    message: /^pulse 123456789 not found$/,
  },
  {
    kind: 'an unknown customer in an order, POST /orders',
    send: () => json('POST', '/orders', {customer_id: randomUUID(), items: [line()]}),
    status: 422,
    code: 'unprocessable',
    message: /^customer_id: customer [0-9a-f-]{36} not found$/,
  },
  {
    kind: 'an unknown product in an order, POST /orders',
    send: () => json('POST', '/orders', {customer_id: fx.customer, items: [line(), {product_id: randomUUID(), quantity: 1}]}),
    status: 422,
    code: 'unprocessable',
    message: /^items\[1\]\.product_id: product [0-9a-f-]{36} not found$/,
  },
  {
    kind: 'a basket path id that is not a customer id, DELETE /baskets/:customer_id/items/:product_id',
    send: () => send('DELETE', `/baskets/nobody/items/${fx.product}`),
    status: 404,
    code: 'not_found',
    message: /^customer nobody not found$/,
  },
  {
    kind: 'a basket path id that is not a customer id, GET /baskets/:customer_id',
    send: () => send('GET', '/baskets/0'),
    status: 404,
    code: 'not_found',
    message: /^customer 0 not found$/,
  },
  {
    kind: 'a checkout of an empty basket, POST /baskets/:customer_id/checkout',
    send: () => send('POST', `/baskets/${randomUUID()}/checkout`),
    status: 422,
    code: 'unprocessable',
    message: /^the basket of customer [0-9a-f-]{36} is empty$/,
  },
  {kind: 'a path no route serves, GET /nope', send: () => send('GET', '/nope'), status: 404, code: 'not_found', message: /^no route for GET \/nope$/},
  {
    kind: 'a method a path does not serve, DELETE /customers/:id',
    send: () => send('DELETE', `/customers/${fx.customer}`),
    status: 404,
    code: 'not_found',
    message: /^no route for DELETE \/customers\//,
  },

  // --- query strings out of range ----------------------------------------------------------
  {
    kind: 'a zero limit, GET /orders',
    send: () => send('GET', '/orders?limit=0'),
    status: 400,
    code: 'invalid_request',
    message: /^querystring\/limit must be >= 1$/,
  },
  {
    kind: 'a limit over the maximum, GET /q/orders',
    send: () => send('GET', '/q/orders?limit=101'),
    status: 400,
    code: 'invalid_request',
    message: /^querystring\/limit must be <= 100$/,
  },
  {
    kind: 'a limit that is not a number, GET /q/products',
    send: () => send('GET', '/q/products?limit=ten'),
    status: 400,
    code: 'invalid_request',
    message: /^querystring\/limit must be integer$/,
  },
  {
    kind: 'a fractional limit, GET /q/customers',
    send: () => send('GET', '/q/customers?limit=1.5'),
    status: 400,
    code: 'invalid_request',
    message: /^querystring\/limit must be integer$/,
  },
  {
    kind: 'an unknown query parameter, GET /q/orders',
    send: () => send('GET', '/q/orders?colour=red'),
    status: 400,
    code: 'invalid_request',
    message: /^querystring must NOT have additional properties: colour$/,
  },
  {
    kind: 'a status that does not exist, GET /q/orders',
    send: () => send('GET', '/q/orders?status=shipped'),
    status: 400,
    code: 'invalid_request',
    message: /^querystring\/status must be equal to one of the allowed values: PENDING, RESERVED, PAID, CANCELED$/,
  },
  {
    kind: 'a repeated query parameter, GET /orders',
    send: () => send('GET', '/orders?limit=1&limit=2'),
    status: 400,
    code: 'invalid_request',
    message: /^querystring\/limit must be integer$/,
  },
  {
    kind: 'a negative offset, GET /customers',
    send: () => send('GET', '/customers?offset=-1'),
    status: 400,
    code: 'invalid_request',
    message: /^querystring\/offset must be >= 0$/,
  },
  {
    kind: 'a page of zero, GET /pulses',
    send: () => send('GET', '/pulses?page=0'),
    status: 400,
    code: 'invalid_request',
    message: /^querystring\/page must be >= 1$/,
  },
  {
    kind: 'a top over the maximum, GET /ingest/status',
    send: () => send('GET', '/ingest/status?top=101'),
    status: 400,
    code: 'invalid_request',
    message: /^querystring\/top must be <= 100$/,
  },
  {
    kind: 'an id list over its length limit, GET /products?ids=',
    send: () => send('GET', `/products?ids=${Array.from({length: 120}, () => randomUUID()).join(',')}`),
    status: 400,
    code: 'invalid_request',
    message: /^querystring\/ids must NOT have more than 3700 characters$/,
  },
]

describe('bad input over HTTP', () => {
  it.each(cases)('$kind', async (c) => {
    const res = await c.send()
    expectError(res, c.status, c.code, c.message)
    await c.unchanged?.()
  })
})

describe('after all of it', () => {
  it('every runner is still ready, and a good order flows from POST /orders to PAID in the read model', async () => {
    const health = await api('GET', '/health')
    expect(health.status).toBe(200)
    expect(health.body.runners.map((r: {name: string; state: string}) => [r.name, r.state])).toEqual(
      ['customer', 'product', 'order', 'query', 'ingest'].map((n) => [n, 'ready']),
    )
    const customer = (await created('/customers', {name: 'Good', email: `${randomUUID()}@example.com`})).id
    const order = await created('/orders', {customer_id: customer, items: [line()]})
    await eventually(async () => (await api('GET', `/orders/${order.id}`)).body.status === 'RESERVED', {timeoutMs: 30_000, what: 'order RESERVED'})
    expect((await api('POST', `/orders/${order.id}/pay`)).body.status).toBe('PAID')
    const view = await eventually(
      async () => {
        const res = await api('GET', `/q/orders/${order.id}`)
        return res.body?.status === 'PAID' && res.body
      },
      {timeoutMs: 30_000, what: 'PAID in the read model'},
    )
    expect(view).toMatchObject({id: order.id, customer: {id: customer, name: 'Good'}, total_cents: 990})
    await eventually(async () => (await api('GET', `/customers/${customer}`)).body.orders_count === 1, {
      timeoutMs: 30_000,
      what: 'the order counted for its customer',
    })
    expect((await api('GET', '/pulses')).status).toBe(200)
  })
})
