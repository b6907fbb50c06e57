import type {ChaosPlatform} from './platform.js'
import type {WitnessOrder} from './witness.js'

/**
 * The chaos tier's oracles, computed here from the stores themselves (PostgreSQL write models,
 * the Mongo read model, `mm dlq list`), never from what the platform reports about itself. They
 * are cumulative: every order and pulse since the platform started must satisfy them.
 */
export interface Verdict {
  /** What is wrong, one line each (empty when every oracle holds). */
  problems: string[]
  /** Acknowledged effects that are missing: witness orders, paid orders, pulse amounts, order counts. */
  lost: number
  /** Effects applied more than once: stock reserved twice, orders counted twice, pulse amounts added twice. */
  countedTwice: number
  orders: number
}

/** Milli-units of a decimal string (the loads send at most three decimals). */
export const milli = (amount: string): bigint => {
  const [whole, frac = ''] = amount.split('.')
  if (frac.replace(/0+$/, '').length > 3) throw new Error(`amount ${amount} has more than three decimals`)
  return BigInt(whole!) * 1000n + BigInt((frac + '000').slice(0, 3))
}

export const pulseKey = (t: {tenant: string; product_sku: string; use_unity: string}) => JSON.stringify([t.tenant, t.product_sku, t.use_unity])

const ms = (d: Date | string | null | undefined): number | null => (d === null || d === undefined ? null : new Date(d).getTime())

export const checkOracles = async (
  p: ChaosPlatform,
  o: {initialStock: Map<string, number>; witness: WitnessOrder[]; pulses: Map<string, bigint>},
): Promise<Verdict> => {
  const problems: string[] = []
  let lost = 0
  let countedTwice = 0
  const note = (line: string) => problems.length < 40 && problems.push(line)

  // Write model.
  const {rows: orders} = await p.pool.query<{
    id: string
    customer_id: string
    status: string
    total_cents: string
    version: number
    created_at: Date
    updated_at: Date
    paid_at: Date | null
    canceled_at: Date | null
    items: {product_id: string; quantity: number; unit_price_cents: number}[]
  }>(
    `SELECT o.id, o.customer_id, o.status, o.total_cents, o.version, o.created_at, o.updated_at, o.paid_at, o.canceled_at,
            json_agg(json_build_object('product_id', i.product_id, 'quantity', i.quantity, 'unit_price_cents', i.unit_price_cents) ORDER BY i.line) AS items
     FROM "order".orders o JOIN "order".order_items i ON i.order_id = o.id GROUP BY o.id`,
  )
  const {rows: products} = await p.pool.query<{id: string; sku: string; name: string; price_cents: number; stock: number}>(
    'SELECT id, sku, name, price_cents, stock FROM product.products',
  )
  const {rows: customers} = await p.pool.query<{id: string; name: string; email: string; orders_count: number}>(
    'SELECT id, name, email, orders_count FROM customer.customers',
  )
  const productById = new Map(products.map((r) => [r.id, r]))
  const customerById = new Map(customers.map((r) => [r.id, r]))
  const orderById = new Map(orders.map((r) => [r.id, r]))

  // 1. Every order ends in a terminal (PAID, CANCELED) or resumable (RESERVED: can be paid or canceled) state.
  for (const r of orders) if (r.status === 'PENDING') note(`order ${r.id} is still PENDING after the platform drained`)

  // 2. What the platform acknowledged to the witness is there.
  for (const w of o.witness) {
    const r = orderById.get(w.id)
    if (!r) {
      lost++
      note(`witness order ${w.id} was acknowledged (201) but is not in "order".orders`)
    } else if (w.paid && r.status !== 'PAID') {
      lost++
      note(`witness order ${w.id} was paid (200) but is ${r.status}`)
    }
  }

  // 3. Stock = initial stock − what the orders holding a reservation (RESERVED, PAID) reserved.
  const reserved = new Map<string, number>()
  for (const r of orders)
    if (r.status === 'RESERVED' || r.status === 'PAID') for (const i of r.items) reserved.set(i.product_id, (reserved.get(i.product_id) ?? 0) + i.quantity)
  for (const [id, initial] of o.initialStock) {
    const now = productById.get(id)?.stock
    const expected = initial - (reserved.get(id) ?? 0)
    if (now === expected) continue
    if (now === undefined) note(`product ${id} disappeared`)
    else if (now < expected) {
      countedTwice += expected - now
      note(`product ${id}: stock ${now}, expected ${expected} (reserved twice or never released)`)
    } else {
      lost += now - expected
      note(`product ${id}: stock ${now}, expected ${expected} (a reservation lost or released twice)`)
    }
  }

  // 4. orders_count = the customer's orders.
  const ordersOf = new Map<string, number>()
  for (const r of orders) ordersOf.set(r.customer_id, (ordersOf.get(r.customer_id) ?? 0) + 1)
  for (const c of customers) {
    const expected = ordersOf.get(c.id) ?? 0
    if (c.orders_count === expected) continue
    if (c.orders_count > expected) countedTwice += c.orders_count - expected
    else lost += expected - c.orders_count
    note(`customer ${c.id}: orders_count ${c.orders_count}, has ${expected} orders`)
  }

  // 5. The read model equals the write model, field by field.
  const db = p.mongo.db('mercadomio')
  const views = await db.collection('orders_view').find({}).toArray()
  const seen = new Set<string>()
  for (const v of views) {
    const id = String(v._id)
    seen.add(id)
    const r = orderById.get(id)
    if (!r) {
      note(`orders_view has ${id}, which is not an order`)
      continue
    }
    const customer = customerById.get(r.customer_id)
    const want: Record<string, unknown> = {
      status: r.status,
      total_cents: Number(r.total_cents),
      version: r.version,
      created_at: ms(r.created_at),
      updated_at: ms(r.updated_at),
      paid_at: ms(r.paid_at),
      canceled_at: ms(r.canceled_at),
      customer: {id: r.customer_id, name: customer?.name, email: customer?.email},
      items: r.items.map((i) => ({
        product_id: i.product_id,
        quantity: i.quantity,
        unit_price_cents: i.unit_price_cents,
        sku: productById.get(i.product_id)?.sku,
        name: productById.get(i.product_id)?.name,
      })),
    }
    const got: Record<string, unknown> = {
      status: v.status,
      total_cents: Number(v.total_cents),
      version: v.version,
      created_at: ms(v.created_at),
      updated_at: ms(v.updated_at),
      paid_at: ms(v.paid_at),
      canceled_at: ms(v.canceled_at),
      customer: {id: v.customer?.id, name: v.customer?.name, email: v.customer?.email},
      items: (v.items as any[]).map((i) => ({
        product_id: i.product_id,
        quantity: i.quantity,
        unit_price_cents: Number(i.unit_price_cents),
        sku: i.sku,
        name: i.name,
      })),
    }
    for (const field of Object.keys(want)) {
      if (JSON.stringify(want[field]) !== JSON.stringify(got[field]))
        note(`orders_view ${id}.${field}: ${JSON.stringify(got[field])}, write model ${JSON.stringify(want[field])}`)
    }
  }
  for (const r of orders) if (!seen.has(r.id)) note(`order ${r.id} (${r.status}) is missing from orders_view`)
  const productViews = await db.collection('products_view').find({}).toArray()
  if (productViews.length !== products.length) note(`products_view has ${productViews.length} documents, product.products ${products.length} rows`)
  for (const v of productViews) {
    const r = productById.get(String(v._id))
    if (!r) note(`products_view has ${String(v._id)}, which is not a product`)
    else if (v.stock !== r.stock || v.sku !== r.sku || v.name !== r.name || v.price_cents !== r.price_cents)
      note(`products_view ${r.id}: stock ${v.stock} sku ${v.sku} price ${v.price_cents}, write model stock ${r.stock} sku ${r.sku} price ${r.price_cents}`)
  }
  const customerViews = await db.collection('customers_view').find({}).toArray()
  if (customerViews.length !== customers.length) note(`customers_view has ${customerViews.length} documents, customer.customers ${customers.length} rows`)
  for (const v of customerViews) {
    const r = customerById.get(String(v._id))
    if (!r) note(`customers_view has ${String(v._id)}, which is not a customer`)
    else if (v.orders_count !== r.orders_count || v.name !== r.name || v.email !== r.email)
      note(`customers_view ${r.id}: orders_count ${v.orders_count}, write model ${r.orders_count}`)
  }

  // 6. Pulse totals exact per key, after a flush.
  const {rows: stored} = await p.pool.query<{tenant: string; product_sku: string; use_unity: string; used_amount: string}>(
    'SELECT tenant, product_sku, use_unity, used_amount::text FROM ingest.pulses',
  )
  const storedBy = new Map(stored.map((r) => [pulseKey(r), milli(r.used_amount)]))
  for (const key of new Set([...o.pulses.keys(), ...storedBy.keys()])) {
    const want = o.pulses.get(key) ?? 0n
    const got = storedBy.get(key) ?? 0n
    if (want === got) continue
    note(`pulses ${key}: stored ${got} milli, published ${want}`)
    if (got > want) countedTwice += Number(got - want)
    else lost += Number(want - got)
  }

  // 7. Nothing in a dead-letter queue: the test put nothing there.
  const listed = await p.mm(['dlq', 'list', '--json'])
  if (listed.exitCode !== 0) note(`mm dlq list failed (exit ${listed.exitCode}): ${listed.stderr.trim()}`)
  else
    for (const d of (JSON.parse(listed.stdout) as {dlqs: {name: string; messages: number; error?: string}[]}).dlqs)
      if (d.messages > 0 || d.error) note(`${d.name} holds ${d.messages} dead letter(s)${d.error ? ` (${d.error})` : ''}`)

  return {problems, lost, countedTwice, orders: orders.length}
}
