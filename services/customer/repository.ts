import type pg from 'pg'

import {conflict} from '../shared/errors.js'
import {SCHEMA, type CustomerChanges, type CustomerRow, type NewCustomer} from './domain.js'

const COLUMNS = 'id, name, email, address, orders_count, version, created_at, updated_at'
const T = `"${SCHEMA}".customers`

type Db = pg.Pool | pg.PoolClient

/** A unique violation on the email index becomes a 409 naming the address. */
const duplicateEmail = (error: unknown, email: string | undefined): never => {
  if ((error as {code?: string}).code === '23505') throw conflict(`a customer with email ${email} already exists`, {field: 'email'})
  throw error
}

export const insertCustomer = async (db: Db, c: NewCustomer): Promise<CustomerRow> => {
  try {
    const {rows} = await db.query<CustomerRow>(`INSERT INTO ${T} (name, email, address) VALUES ($1, $2, $3) RETURNING ${COLUMNS}`, [
      c.name,
      c.email,
      c.address ?? null,
    ])
    return rows[0]!
  } catch (error) {
    return duplicateEmail(error, c.email)
  }
}

export const findCustomer = async (db: Db, id: string, forUpdate = false): Promise<CustomerRow | undefined> => {
  const {rows} = await db.query<CustomerRow>(`SELECT ${COLUMNS} FROM ${T} WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [id])
  return rows[0]
}

export const listCustomers = async (db: Db, limit: number, offset: number): Promise<{rows: CustomerRow[]; total: number}> => {
  const [page, count] = await Promise.all([
    db.query<CustomerRow>(`SELECT ${COLUMNS} FROM ${T} ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2`, [limit, offset]),
    db.query<{total: number}>(`SELECT count(*)::int AS total FROM ${T}`),
  ])
  return {rows: page.rows, total: count.rows[0]?.total ?? 0}
}

/** Applies the given changes and bumps the version; undefined when the customer does not exist. */
export const updateCustomer = async (db: Db, id: string, changes: CustomerChanges): Promise<CustomerRow | undefined> => {
  try {
    const {rows} = await db.query<CustomerRow>(
      `UPDATE ${T} SET
         name = CASE WHEN $2 THEN $3 ELSE name END,
         email = CASE WHEN $4 THEN $5 ELSE email END,
         address = CASE WHEN $6 THEN $7 ELSE address END,
         version = version + 1,
         updated_at = now()
       WHERE id = $1 RETURNING ${COLUMNS}`,
      [
        id,
        changes.name !== undefined,
        changes.name ?? null,
        changes.email !== undefined,
        changes.email ?? null,
        changes.address !== undefined,
        changes.address ?? null,
      ],
    )
    return rows[0]
  } catch (error) {
    return duplicateEmail(error, changes.email)
  }
}

/** One more order for the customer; undefined when the customer does not exist. */
/** Adds orders to customers in one statement (customers in id order); the rows of those that exist. */
export const addOrders = async (db: Db, counts: Map<string, number>): Promise<CustomerRow[]> => {
  const ids = [...counts.keys()].sort()
  const {rows} = await db.query<CustomerRow>(
    `UPDATE ${T} c SET orders_count = c.orders_count + d.n, version = c.version + 1, updated_at = now()
     FROM unnest($1::uuid[], $2::int[]) AS d(id, n) WHERE c.id = d.id RETURNING ${COLUMNS.split(', ')
       .map((k) => `c.${k}`)
       .join(', ')}`,
    [ids, ids.map((id) => counts.get(id))],
  )
  return rows
}
