import type {Db, Document} from 'mongodb'

import type {Versioned} from './apply.js'
import {compareDocument, type FieldDifference, plain} from './compare.js'
import {type Candidate, recheck} from './recheck.js'
import {expectedDocuments, type Queryable, SOURCES, type ViewDoc} from './sources.js'
import {customerToApi, orderToApi, productToApi, VIEW_COLLECTIONS, type ViewKey, type ViewName} from './views.js'

/**
 * `mm projections verify`, the storage side: every document of the views against the document
 * the write models call for (sources.ts, built by the projector's own code), field by field.
 *
 * 1. Scan: the write model page by page in id order; each page's documents fetched by `_id`
 *    (`$in`, which mongo-java-server answers from its `_id` index; a sorted scan of the
 *    collection costs it several times more); then the view's ids alone, each checked against
 *    the write model, for documents that should not be there. One page in memory at a time.
 * 2. Recheck (recheck.ts): on a running platform a document may differ only because its newest event is still
 *    on its way. Every candidate (up to `maxTracked`) is read again around `settle()` (which waits
 *    until the read model applied what the write models held when it was called): write model
 *    (r1), settle, view, write model again (r2). A difference is confirmed when the view is at
 *    r2's version and still differs the same way as before, when the view is ahead of the write
 *    model (versions only grow there), when it is behind r1 after settling (an event was lost),
 *    or when the document is missing after settling. Otherwise the document is still moving: it
 *    is read again, until `recheckMs`; what still moves then is `unsettled`, not a difference.
 */

export type DifferenceKind = 'missing' | 'extra' | 'differs'

export interface Difference {
  view: ViewName
  id: string
  kind: DifferenceKind
  /** For `differs`: each field with both values. */
  fields: FieldDifference[]
  /** For `missing`: the document the write model calls for (as the API would show it). */
  expected?: unknown
  /** For `extra`: the document found (as stored). */
  actual?: unknown
}

export interface ViewVerdict {
  view: ViewName
  /** Write-model rows compared. */
  rows: number
  /** Documents in the view. */
  documents: number
  matching: number
  differing: number
  missing: number
  extra: number
  /** Still changing when the rechecks ended: not counted as differences. */
  unsettled: number
  /** Differences beyond `maxTracked`: counted as found by the scan, not rechecked or listed. */
  untracked: number
}

export interface VerifyProgress {
  view: ViewName
  phase: 'scan' | 'extras' | 'recheck'
  done: number
  total: number
}

export interface VerifyOptions {
  views?: ViewKey[]
  batchSize?: number
  signal?: AbortSignal
  onProgress?: (p: VerifyProgress) => void
  /** Resolves once the read model applied what the write models held when it was called; false when it could not (timed out). */
  settle?: () => Promise<boolean>
  recheckMs?: number
  maxTracked?: number
}

export interface VerifyOutcome {
  views: ViewVerdict[]
  /** Every confirmed difference (up to `maxTracked`), views in order, ids in the order found. */
  differences: Difference[]
  /** Write-model rows and view documents read. */
  rows: number
  documents: number
  /** Every settle() of the rechecks succeeded (undefined: none was needed). */
  caughtUp?: boolean
  rechecks: number
  interrupted: boolean
}

export const VIEW_ORDER: readonly ViewKey[] = ['customers', 'products', 'orders']

const toApi = (view: ViewKey, doc: ViewDoc): unknown =>
  plain(view === 'orders' ? orderToApi(doc as never) : view === 'products' ? productToApi(doc as never) : customerToApi(doc as never))

export const verifyViews = async ({pool, db}: {pool: Queryable; db: Db}, opts: VerifyOptions = {}): Promise<VerifyOutcome> => {
  const keys = VIEW_ORDER.filter((k) => (opts.views ?? VIEW_ORDER).includes(k))
  const batch = opts.batchSize ?? 500
  const maxTracked = opts.maxTracked ?? 10_000
  const coll = (k: ViewKey) => db.collection<Document>(VIEW_COLLECTIONS[k])
  const verdicts = new Map<ViewKey, ViewVerdict>(
    keys.map((k) => [k, {view: VIEW_COLLECTIONS[k], rows: 0, documents: 0, matching: 0, differing: 0, missing: 0, extra: 0, unsettled: 0, untracked: 0}]),
  )
  const tracked = new Map<string, Candidate>()
  const aborted = () => opts.signal?.aborted === true
  const track = (c: Candidate) => {
    if (tracked.size < maxTracked) tracked.set(`${c.view}\u0000${c.id}`, c)
    else {
      const v = verdicts.get(c.view)!
      v.untracked++
      v[c.kind === 'differs' ? 'differing' : c.kind]++
    }
  }

  // 1. Scan.
  for (const key of keys) {
    const source = SOURCES[key]
    const verdict = verdicts.get(key)!
    const total = await source.count(pool)
    let after: string | undefined
    while (!aborted()) {
      const rows: Versioned<{id: string}>[] = (await source.page(pool, after, batch)) as Versioned<{id: string}>[]
      if (rows.length === 0) break
      after = rows.at(-1)!.data.id
      const ids = rows.map((r) => r.data.id)
      const [expected, found] = await Promise.all([
        expectedDocuments(pool, key, rows),
        coll(key)
          .find({_id: {$in: ids}} as never)
          .toArray(),
      ])
      const actual = new Map(found.map((d) => [String(d._id), d]))
      expected.forEach((e) => {
        const doc = actual.get(e._id)
        if (!doc) return track({view: key, raw: e._id, id: e._id, kind: 'missing', fields: []})
        const fields = compareDocument(key, e, doc)
        if (fields.length === 0) verdict.matching++
        else track({view: key, raw: e._id, id: e._id, kind: 'differs', fields, seen: JSON.stringify(fields)})
      })
      verdict.rows += rows.length
      opts.onProgress?.({view: verdict.view, phase: 'scan', done: verdict.rows, total: Math.max(total, verdict.rows)})
    }
    if (aborted()) break
    // Documents the write model does not have: the view's ids, then the write model (in that
    // order: a document exists only after its row was committed).
    let chunk: Document[] = []
    const check = async () => {
      const present = await source.existing(
        pool,
        chunk.map((d) => String(d._id)),
      )
      for (const d of chunk) if (typeof d._id !== 'string' || !present.has(d._id)) track({view: key, raw: d._id, id: String(d._id), kind: 'extra', fields: []})
      chunk = []
    }
    for await (const d of coll(key)
      .find({}, {projection: {_id: 1}})
      .batchSize(5000)) {
      verdict.documents++
      chunk.push(d)
      if (chunk.length >= 1000) await check()
      if (verdict.documents % 5000 === 0) opts.onProgress?.({view: verdict.view, phase: 'extras', done: verdict.documents, total: verdict.documents})
      if (aborted()) break
    }
    if (chunk.length > 0 && !aborted()) await check()
  }

  // 2. Recheck.
  const {confirmed, unsettled, resolved, caughtUp, rounds} =
    opts.settle && !aborted()
      ? await recheck(pool, db, [...tracked.values()], opts.settle, {...opts, batchSize: batch})
      : {confirmed: [...tracked.values()], unsettled: [], resolved: [], caughtUp: undefined, rounds: 0}
  for (const c of resolved) verdicts.get(c.view)!.matching++
  for (const c of unsettled) verdicts.get(c.view)!.unsettled++

  // Counts and details.
  const order = new Map(keys.map((k, i) => [k, i]))
  confirmed.sort((a, b) => order.get(a.view)! - order.get(b.view)!)
  const differences: Difference[] = []
  for (const c of confirmed) {
    const v = verdicts.get(c.view)!
    v[c.kind === 'differs' ? 'differing' : c.kind]++
    differences.push({view: VIEW_COLLECTIONS[c.view], id: c.id, kind: c.kind, fields: c.kind === 'differs' ? c.fields : []})
  }
  await describe(pool, db, confirmed, differences)
  const list = [...verdicts.values()]
  return {
    views: list,
    differences,
    rows: list.reduce((n, v) => n + v.rows, 0),
    documents: list.reduce((n, v) => n + v.documents, 0),
    caughtUp,
    rechecks: rounds,
    interrupted: aborted(),
  }
}

/** Adds what is needed to read a missing or extra document's difference: the document expected, or found. */
const describe = async (pool: Queryable, db: Db, confirmed: Candidate[], out: Difference[]): Promise<void> => {
  const byKey = new Map(out.map((d) => [`${d.view}\u0000${d.id}`, d]))
  const at = (c: Candidate) => byKey.get(`${VIEW_COLLECTIONS[c.view]}\u0000${c.id}`)
  for (const key of VIEW_ORDER) {
    const missing = confirmed.filter((c) => c.view === key && c.kind === 'missing')
    if (missing.length > 0) {
      for (const e of await expectedDocuments(
        pool,
        key,
        await SOURCES[key].byIds(
          pool,
          missing.map((c) => c.id),
        ),
      )) {
        const d = byKey.get(`${VIEW_COLLECTIONS[key]}\u0000${e._id}`)
        if (d) d.expected = toApi(key, e)
      }
    }
    const extras = confirmed.filter((c) => c.view === key && c.kind === 'extra')
    const unread = extras.filter((c) => !c.actual)
    if (unread.length > 0) {
      const found = new Map(
        (
          await db
            .collection<Document>(VIEW_COLLECTIONS[key])
            .find({_id: {$in: unread.map((c) => c.raw)}} as never)
            .toArray()
        ).map((d) => [String(d._id), d]),
      )
      for (const c of unread) c.actual = found.get(c.id)
    }
    for (const c of extras) {
      const d = at(c)
      if (d && c.actual) d.actual = plain(c.actual)
    }
  }
}
