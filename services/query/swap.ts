import {type AnyBulkWriteOperation, type Collection, type Db, type Document, MongoBulkWriteError} from 'mongodb'

import {compareDocument} from './compare.js'
import type {RebuildOptions, RebuildViewResult} from './rebuild.js'
import {expectedDocuments, type Queryable, SOURCES} from './sources.js'
import {DUPLICATE_KEY} from './versioned.js'
import type {ViewKey, ViewName} from './views.js'

/** The two ways rebuild.ts swaps a shadow in (see the README, "Read-model operations"). */

export const SHADOW_SUFFIX = '__rebuild'
export const shadowOf = (view: ViewName): string => `${view}${SHADOW_SUFFIX}`

/** Where renameCollection is atomic: the shadow (with the live view's indexes) replaces the live view in one step. */
export const renameSwap = async (db: Db, result: RebuildViewResult): Promise<void> => {
  result.written = await db.collection(shadowOf(result.view)).countDocuments()
  await db.collection(shadowOf(result.view)).rename(result.view, {dropTarget: true})
}

/** The live view's secondary indexes, on its shadow (renameCollection carries a collection's own indexes). */
export const copyIndexes = async (db: Db, view: ViewName): Promise<void> => {
  const existing = await db
    .collection(view)
    .indexes()
    .catch(() => [])
  for (const index of existing) {
    if (index.name === '_id_') continue
    await db.collection(shadowOf(view)).createIndex(index.key as Record<string, 1 | -1>, {name: index.name, ...(index.unique ? {unique: true} : {})})
  }
}

/** Guards a replacement by what was read: the projector may write the document meanwhile (its name copies keep the version). */
const guardOf = (key: ViewKey, cur: Document): Document =>
  key === 'orders'
    ? {_id: cur._id, version: cur.version ?? null, customer_version: cur.customer_version ?? null, items: cur.items ?? null}
    : {_id: cur._id, version: cur.version ?? null, fill_version: cur.fill_version ?? null}

/**
 * The swap where renameCollection is not atomic: the live documents that differ from the shadow
 * are checked against the write model as it is now and replaced (or inserted) when wrong, each
 * guarded by what was read; then documents the write model does not have are deleted.
 */
export const copySwap = async (pool: Queryable, db: Db, key: ViewKey, batch: number, result: RebuildViewResult, opts: RebuildOptions): Promise<void> => {
  const live = db.collection<Document>(result.view)
  const shadow = db.collection<Document>(shadowOf(result.view))
  const total = await shadow.countDocuments()
  let done = 0
  let page: Document[] = []
  const mend = async (ids: string[], attempt = 1): Promise<void> => {
    const held = new Map((await live.find({_id: {$in: ids}} as never).toArray()).map((d) => [String(d._id), d]))
    const fresh = await expectedDocuments(pool, key, await SOURCES[key].byIds(pool, ids))
    const ops: AnyBulkWriteOperation<Document>[] = []
    for (const e of fresh) {
      const cur = held.get(e._id)
      if (!cur) ops.push({insertOne: {document: e as Document}})
      else if (cur.version !== e.version || compareDocument(key, e, cur).length > 0) ops.push({replaceOne: {filter: guardOf(key, cur), replacement: e}})
    }
    if (ops.length === 0) return
    const {applied, complete} = await write(live, ops)
    result.written += applied
    // The projector wrote some of them between our read and our write: read those again.
    if (!complete && attempt < 3) await mend(ids, attempt + 1)
  }
  const flush = async () => {
    const cur = new Map((await live.find({_id: {$in: page.map((d) => d._id)}}).toArray()).map((d) => [String(d._id), d]))
    const suspects = page.filter((s) => {
      const c = cur.get(String(s._id))
      return !c || c.version !== s.version || compareDocument(key, s, c).length > 0
    })
    if (suspects.length > 0) await mend(suspects.map((s) => String(s._id)))
    done += page.length
    page = []
    opts.onProgress?.({phase: 'swap', view: result.view, done, total})
  }
  for await (const s of shadow.find({}).batchSize(batch)) {
    page.push(s)
    if (page.length >= batch) await flush()
  }
  if (page.length > 0) await flush()

  // Documents the write model does not have (in the shadow, nor in the write model now: a
  // document exists only after its row, so reading the view first, then the write model, is safe).
  let ids: unknown[] = []
  const removeExtras = async () => {
    const inShadow = new Set((await shadow.find({_id: {$in: ids}} as never, {projection: {_id: 1}}).toArray()).map((d) => String(d._id)))
    const candidates = ids.filter((id) => !inShadow.has(String(id)))
    const present = await SOURCES[key].existing(
      pool,
      candidates.filter((id): id is string => typeof id === 'string'),
    )
    const extras = candidates.filter((id) => typeof id !== 'string' || !present.has(id))
    if (extras.length > 0) result.removed += (await live.deleteMany({_id: {$in: extras}} as never)).deletedCount
    ids = []
  }
  for await (const d of live.find({}, {projection: {_id: 1}}).batchSize(5000)) {
    ids.push(d._id)
    if (ids.length >= 1000) await removeExtras()
  }
  if (ids.length > 0) await removeExtras()
}

/** Runs the writes; how many applied, and whether all did (a guard no longer matching, or a document inserted meanwhile, did not). */
const write = async (coll: Collection<Document>, ops: AnyBulkWriteOperation<Document>[]): Promise<{applied: number; complete: boolean}> => {
  try {
    const r = await coll.bulkWrite(ops, {ordered: false})
    const applied = r.insertedCount + r.matchedCount
    return {applied, complete: applied === ops.length}
  } catch (error) {
    if (!(error instanceof MongoBulkWriteError)) throw error
    const errors = [error.writeErrors].flat()
    if (errors.length === 0 || errors.some((e) => e.code !== DUPLICATE_KEY)) throw error
    return {applied: error.result.insertedCount + error.result.matchedCount, complete: false}
  }
}
