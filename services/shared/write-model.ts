import type pg from 'pg'

/**
 * Read-only readers of a component's write model, for whoever checks or rebuilds what was derived
 * from it (query's `mm projections verify | rebuild`). Each component declares its own table (what
 * to select, and the event data of a row) next to its repository and exports the reader: the SQL
 * of a schema stays in the component that owns it (PLATFORM.md §3). Pages are in id order (keyset
 * on the primary key), so a scan of 100,000 rows holds one page at a time.
 */

export type Queryable = Pick<pg.Pool, 'query'>

/** A row as its component publishes it: the event data, at the row's version. */
export interface VersionedRow<D> {
  version: number
  data: D
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
/** Primary keys are uuids: an id of another shape cannot be in the write model (and would fail the cast). */
const uuidsOf = (ids: Iterable<string>): string[] => [...new Set(ids)].filter((id) => UUID.test(id))

/** Reads of one table: a page after an id, rows by id, which ids exist, what changed since an instant, the count. */
export interface WriteModelReader<D> {
  count(db: Queryable): Promise<number>
  /** Up to `limit` rows with an id above `after` (from the first when undefined), in id order. */
  page(db: Queryable, after: string | undefined, limit: number): Promise<VersionedRow<D>[]>
  byIds(db: Queryable, ids: Iterable<string>): Promise<VersionedRow<D>[]>
  /** Which of these ids the table holds. */
  existing(db: Queryable, ids: Iterable<string>): Promise<Set<string>>
  /** Id and version of the rows changed since an instant (by `updated_at`, which every change sets). */
  versionsSince(db: Queryable, since: Date): Promise<{id: string; version: number}[]>
}

/** One table of a write model, aliased `t`: its uuid primary key `t.id`, `t.version` and `t.updated_at`. */
export interface WriteModelTable<R extends {version: number}, D> {
  /** e.g. `"customer".customers t` */
  from: string
  columns: string
  data: (row: R) => D
}

export const writeModelReader = <R extends {version: number}, D>(table: WriteModelTable<R, D>): WriteModelReader<D> => {
  const rows = (found: R[]): VersionedRow<D>[] => found.map((r) => ({version: r.version, data: table.data(r)}))
  return {
    count: async (db) => (await db.query<{n: number}>(`SELECT count(*)::int AS n FROM ${table.from}`)).rows[0]?.n ?? 0,
    page: async (db, after, limit) =>
      rows(
        (after === undefined
          ? await db.query<R>(`SELECT ${table.columns} FROM ${table.from} ORDER BY t.id LIMIT $1`, [limit])
          : await db.query<R>(`SELECT ${table.columns} FROM ${table.from} WHERE t.id > $1::uuid ORDER BY t.id LIMIT $2`, [after, limit])
        ).rows,
      ),
    byIds: async (db, ids) => {
      const wanted = uuidsOf(ids)
      return wanted.length === 0 ? [] : rows((await db.query<R>(`SELECT ${table.columns} FROM ${table.from} WHERE t.id = ANY($1::uuid[])`, [wanted])).rows)
    },
    existing: async (db, ids) => {
      const wanted = uuidsOf(ids)
      if (wanted.length === 0) return new Set()
      return new Set((await db.query<{id: string}>(`SELECT t.id FROM ${table.from} WHERE t.id = ANY($1::uuid[])`, [wanted])).rows.map((r) => r.id))
    },
    // updated_at has no index: a sequential scan, cheap next to anything done with the rows.
    versionsSince: async (db, since) =>
      (await db.query<{id: string; version: number}>(`SELECT t.id, t.version FROM ${table.from} WHERE t.updated_at >= $1 ORDER BY t.id`, [since])).rows,
  }
}
