import type pg from 'pg'

import {SCHEMA as customerSchema} from '../../services/customer/domain.js'
import {SCHEMA as orderSchema} from '../../services/order/repository.js'
import {SCHEMA as productSchema} from '../../services/product/domain.js'

/** The components whose events go through an outbox in their own schema (PLATFORM.md §3); each names its schema. */
export const OUTBOX_SCHEMAS = [customerSchema, productSchema, orderSchema] as const

/**
 * Outbox rows not yet published, per schema: events committed by a component that its relay has
 * not handed to the brokers yet. One round trip for all schemas.
 */
export const unpublishedOutboxRows = async (db: Pick<pg.Pool, 'query'>, schemas: readonly string[] = OUTBOX_SCHEMAS): Promise<Record<string, number>> => {
  const sql = schemas
    .map((s, i) => `SELECT $${i + 1}::text AS schema, count(*)::int AS n FROM "${s.replaceAll('"', '""')}".outbox WHERE published_at IS NULL`)
    .join(' UNION ALL ')
  const {rows} = await db.query<{schema: string; n: number}>(sql, [...schemas])
  return Object.fromEntries(rows.map((r) => [r.schema, r.n]))
}
