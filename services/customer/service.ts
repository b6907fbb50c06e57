import type pg from 'pg'

import type {Namespace} from '../shared/naming.js'
import {withTransaction} from '../shared/db.js'
import {newEnvelope} from '../shared/envelope.js'
import {notFound} from '../shared/errors.js'
import type {CustomerData} from '../shared/events.js'
import {appendOutbox, kafkaMessage, type OutboxMessage} from '../shared/outbox.js'
import type {CustomerCache} from './cache.js'
import {type CustomerChanges, type CustomerRow, isUuid, type NewCustomer, normalize, SCHEMA, toCustomer} from './domain.js'
import {findCustomer, insertCustomer, listCustomers, updateCustomer} from './repository.js'

export interface CustomerServiceDeps {
  pool: pg.Pool
  cache: CustomerCache
  ns: Namespace
}

/** Writes `customer.created` / `customer.updated` (full state, row version) in the caller's transaction. */
/** The event of a customer that just changed: full state, the row's version, key = customer id. */
export const customerEvent = (ns: Namespace, type: 'customer.created' | 'customer.updated', row: CustomerRow): OutboxMessage =>
  kafkaMessage(newEnvelope(type, row.id, row.version, {...toCustomer(row)}), ns)

export const emitCustomerEvent = async (
  client: pg.PoolClient,
  ns: Namespace,
  type: 'customer.created' | 'customer.updated',
  row: CustomerRow,
): Promise<void> => {
  await appendOutbox(client, SCHEMA, [customerEvent(ns, type, row)])
}

export const createCustomerService = ({pool, cache, ns}: CustomerServiceDeps) => ({
  async create(input: NewCustomer): Promise<CustomerData> {
    const row = await withTransaction(pool, async (client) => {
      const inserted = await insertCustomer(client, normalize(input))
      await emitCustomerEvent(client, ns, 'customer.created', inserted)
      return inserted
    })
    const customer = toCustomer(row)
    // Write-through: the order component looks customers up cache-first.
    await cache.set(customer)
    return customer
  },

  async get(id: string): Promise<CustomerData> {
    if (!isUuid(id)) throw notFound('customer', id)
    const cached = await cache.get(id)
    if (cached) return cached
    const row = await findCustomer(pool, id)
    if (!row) throw notFound('customer', id)
    const customer = toCustomer(row)
    await cache.fill(customer)
    return customer
  },

  async list(limit: number, offset: number) {
    const {rows, total} = await listCustomers(pool, limit, offset)
    return {items: rows.map(toCustomer), limit, offset, total}
  },

  async update(id: string, input: CustomerChanges): Promise<CustomerData> {
    if (!isUuid(id)) throw notFound('customer', id)
    const changes = normalize(input)
    const row = await withTransaction(pool, async (client) => {
      const current = await findCustomer(client, id, true)
      if (!current) throw notFound('customer', id)
      const changed =
        (changes.name !== undefined && changes.name !== current.name) ||
        (changes.email !== undefined && changes.email !== current.email) ||
        (changes.address !== undefined && changes.address !== current.address)
      if (!changed) return current
      const updated = (await updateCustomer(client, id, changes))!
      await emitCustomerEvent(client, ns, 'customer.updated', updated)
      return updated
    })
    // After the commit and before the response: no reader can cache the old state afterwards.
    await cache.drop(id)
    return toCustomer(row)
  },
})

export type CustomerService = ReturnType<typeof createCustomerService>
