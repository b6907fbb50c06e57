import {MmError} from '../lib/errors.js'
import type {Api} from './api.js'

export interface SeedOptions {
  api: Api
  customers: number
  products: number
  /** Put seeded records back to their seed values (names, prices, stock). */
  reset: boolean
  /** Told the records handled so far (customers, then products). */
  onProgress?: (done: number) => void
  /** Stops between two records: what was done is kept and counted. */
  signal?: AbortSignal
}

export interface SeedCounts {
  created: number
  found: number
  reset: number
}

export interface SeedResult {
  customers: SeedCounts
  products: SeedCounts
}

const FIRST = ['Ana', 'Bruno', 'Carla', 'Diego', 'Elena', 'Fábio', 'Gabriela', 'Hugo', 'Inês', 'João', 'Karina', 'Luís', 'Marta', 'Nuno', 'Olívia', 'Pedro']
const LAST = ['Silva', 'Santos', 'Oliveira', 'Souza', 'Pereira', 'Costa', 'Rodrigues', 'Almeida', 'Nascimento', 'Lima', 'Araújo', 'Fernandes']
const ADJ = ['Classic', 'Smart', 'Eco', 'Ultra', 'Compact', 'Deluxe', 'Rustic', 'Modern']
const NOUN = ['Kettle', 'Backpack', 'Lamp', 'Headphones', 'Blender', 'Notebook', 'Mug', 'Sneakers', 'Chair', 'Watch']

/** The i-th seed customer and product: pure functions of i, so every run asks for the same data. */
export const seedCustomer = (i: number) => ({
  name: `${FIRST[i % FIRST.length]} ${LAST[Math.floor(i / FIRST.length) % LAST.length]}`,
  email: `seed.customer.${String(i + 1).padStart(4, '0')}@example.test`,
  address: `Rua ${LAST[(i * 7) % LAST.length]}, ${10 + ((i * 37) % 900)}`,
})

export const seedProduct = (i: number) => ({
  sku: `SEED-${String(i + 1).padStart(4, '0')}`,
  name: `${ADJ[i % ADJ.length]} ${NOUN[Math.floor(i / ADJ.length) % NOUN.length]} ${i + 1}`,
  price_cents: 500 + ((i * 7919) % 49_500),
  stock: 1000,
})

const listAll = async (api: Api, path: string): Promise<Record<string, unknown>[]> => {
  const all: Record<string, unknown>[] = []
  for (let offset = 0; ; offset += 100) {
    const r = await api.request(`GET`, `${path}?limit=100&offset=${offset}`)
    if (r.status !== 200) throw new MmError(`GET ${path} answered ${r.status}: ${JSON.stringify(r.body)}`)
    const page = (Array.isArray(r.body) ? r.body : (r.body?.items ?? r.body?.data ?? [])) as Record<string, unknown>[]
    all.push(...page)
    if (page.length < 100) return all
  }
}

/**
 * `mm seed`: deterministic and idempotent. Records are identified by email (customers) and SKU
 * (products); what exists is found, not created again; `--reset` restores seed values.
 */
export const seed = async (o: SeedOptions): Promise<SeedResult> => {
  const result: SeedResult = {customers: {created: 0, found: 0, reset: 0}, products: {created: 0, found: 0, reset: 0}}
  const customers = new Map((await listAll(o.api, '/customers')).map((c) => [String(c.email).toLowerCase(), c]))
  let done = 0
  const step = () => o.onProgress?.(++done)
  for (let i = 0; i < o.customers && !o.signal?.aborted; i++, step()) {
    const want = seedCustomer(i)
    const have = customers.get(want.email)
    if (!have) {
      const r = await o.api.request('POST', '/customers', want)
      if (r.status === 201) result.customers.created++
      else if (r.status === 409) result.customers.found++
      else throw new MmError(`creating customer ${want.email} failed (${r.status}): ${JSON.stringify(r.body)}`)
      continue
    }
    result.customers.found++
    if (o.reset && (have.name !== want.name || have.address !== want.address)) {
      const r = await o.api.request('PUT', `/customers/${have.id}`, {name: want.name, address: want.address})
      if (r.status !== 200) throw new MmError(`resetting customer ${want.email} failed (${r.status})`)
      result.customers.reset++
    }
  }
  if (o.signal?.aborted) return result
  const products = new Map((await listAll(o.api, '/products')).map((p) => [String(p.sku), p]))
  for (let i = 0; i < o.products && !o.signal?.aborted; i++, step()) {
    const want = seedProduct(i)
    const have = products.get(want.sku)
    if (!have) {
      const r = await o.api.request('POST', '/products', want)
      if (r.status === 201) result.products.created++
      else if (r.status === 409) result.products.found++
      else throw new MmError(`creating product ${want.sku} failed (${r.status}): ${JSON.stringify(r.body)}`)
      continue
    }
    result.products.found++
    if (o.reset && (have.name !== want.name || have.price_cents !== want.price_cents || have.stock !== want.stock)) {
      const r = await o.api.request('PATCH', `/products/${have.id}`, {name: want.name, price_cents: want.price_cents, stock: want.stock})
      if (r.status !== 200) throw new MmError(`resetting product ${want.sku} failed (${r.status})`)
      result.products.reset++
    }
  }
  return result
}
