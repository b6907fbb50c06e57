import type {Db, Document} from 'mongodb'

import {compareDocument, type FieldDifference} from './compare.js'
import {expectedDocuments, type Queryable, SOURCES, type ViewDoc} from './sources.js'
import type {DifferenceKind, VerifyProgress} from './verify.js'
import {VIEW_COLLECTIONS, type ViewKey} from './views.js'

/** A document the scan found different, missing or extra, until the recheck decides. */
export interface Candidate {
  view: ViewKey
  /** `_id` as stored (not always a string in a corrupted view) and as text. */
  raw: unknown
  id: string
  kind: DifferenceKind
  /** The differences as last seen (JSON), to confirm a difference only once it holds still. */
  seen?: string
  fields: FieldDifference[]
  actual?: Document
}

type Verdict = {final: true; kind: DifferenceKind | 'resolved'; fields?: FieldDifference[]} | {final: false}

export interface Rechecked {
  confirmed: Candidate[]
  /** Still moving when the time was up (the read model caught up every time). */
  unsettled: Candidate[]
  /** Right after all: the difference was lag. */
  resolved: Candidate[]
  /** Every settle() succeeded (undefined: none was needed). */
  caughtUp?: boolean
  rounds: number
}

const chunks = <T>(xs: T[], n: number): T[][] => Array.from({length: Math.ceil(xs.length / n)}, (_, i) => xs.slice(i * n, i * n + n))

/**
 * Reads the candidates again until each is proven (see verify.ts): per round, their write-model
 * versions (r1), settle() (the read model applies what the write models held), the documents,
 * the write-model rows again (r2), then a verdict each.
 */
export const recheck = async (
  pool: Queryable,
  db: Db,
  candidates: Candidate[],
  settle: () => Promise<boolean>,
  opts: {recheckMs?: number; batchSize: number; signal?: AbortSignal; onProgress?: (p: VerifyProgress) => void},
): Promise<Rechecked> => {
  const out: Rechecked = {confirmed: [], unsettled: [], resolved: [], rounds: 0}
  const deadline = Date.now() + (opts.recheckMs ?? 30_000)
  let pending = candidates
  while (pending.length > 0 && opts.signal?.aborted !== true) {
    out.rounds++
    const groups = [...new Set(pending.map((c) => c.view))].flatMap((key) =>
      chunks(
        pending.filter((c) => c.view === key),
        opts.batchSize,
      ).map((cs) => ({key, cs})),
    )
    const before: Map<string, number>[] = []
    for (const {key, cs} of groups)
      before.push(
        new Map(
          (
            await SOURCES[key].byIds(
              pool,
              cs.map((c) => c.id),
            )
          ).map((r) => [(r.data as {id: string}).id, r.version]),
        ),
      )
    const caught = await settle()
    out.caughtUp = (out.caughtUp ?? true) && caught
    const next: Candidate[] = []
    let done = 0
    for (const [i, {key, cs}] of groups.entries()) {
      const docs = new Map(
        (
          await db
            .collection<Document>(VIEW_COLLECTIONS[key])
            .find({_id: {$in: cs.map((c) => c.raw)}} as never)
            .toArray()
        ).map((d) => [String(d._id), d]),
      )
      const rows = await SOURCES[key].byIds(
        pool,
        cs.map((c) => c.id),
      )
      const now = new Map(rows.map((r) => [(r.data as {id: string}).id, r.version]))
      const expected = new Map((await expectedDocuments(pool, key, rows)).map((e) => [e._id, e]))
      for (const c of cs) {
        const v = judge(key, c, docs.get(c.id), before[i]!.get(c.id), now.get(c.id), expected.get(c.id), caught)
        if (!v.final) next.push(c)
        else if (v.kind === 'resolved') out.resolved.push(c)
        else out.confirmed.push({...c, kind: v.kind, fields: v.fields ?? [], actual: docs.get(c.id)})
      }
      done += cs.length
      opts.onProgress?.({view: VIEW_COLLECTIONS[key], phase: 'recheck', done, total: pending.length})
    }
    pending = next
    // Without a caught-up read model, reading again cannot tell lag from loss: stop here.
    if (!caught || Date.now() > deadline) break
  }
  // Not caught up: what is left is reported as found (the result says the read model was behind).
  if (out.caughtUp === false) out.confirmed.push(...pending)
  else out.unsettled.push(...pending)
  return out
}

/** What one reading of a candidate proves. */
const judge = (
  key: ViewKey,
  c: Candidate,
  doc: Document | undefined,
  r1: number | undefined,
  r2: number | undefined,
  expected: ViewDoc | undefined,
  caught: boolean,
): Verdict => {
  if (r2 === undefined || expected === undefined) return doc ? {final: true, kind: 'extra'} : {final: true, kind: 'resolved'}
  c.kind = doc ? 'differs' : 'missing'
  if (!doc) return caught && r1 !== undefined ? {final: true, kind: 'missing'} : {final: false}
  const fields = compareDocument(key, expected, doc)
  const version = doc.version as unknown
  // Versions only grow in the write model, which was read after the view: a view ahead of it is wrong.
  if (typeof version !== 'number' || version > r2) return {final: true, kind: 'differs', fields}
  if (version === r2) {
    if (fields.length === 0) return {final: true, kind: 'resolved'}
    const seen = JSON.stringify(fields)
    if (seen === c.seen) return {final: true, kind: 'differs', fields}
    c.seen = seen
    c.fields = fields
    return {final: false}
  }
  c.fields = fields
  // Behind what the write model held before the read model caught up: an event was lost.
  return caught && r1 !== undefined && version < r1 ? {final: true, kind: 'differs', fields} : {final: false}
}
