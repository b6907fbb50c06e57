import {type Collection, type Document, type Filter, MongoServerError} from 'mongodb'

/** MongoDB's duplicate-key error code (the same on mongo-java-server). */
export const DUPLICATE_KEY = 11000

export const isDuplicateKey = (error: unknown): boolean => error instanceof MongoServerError && error.code === DUPLICATE_KEY

/** The outcome of applying one event to a view document. */
export interface Applied<D> {
  /** False when the view already held this version or a newer one (duplicate or reordered event). */
  applied: boolean
  /** The view document as it stands after this call (the newest known state). */
  doc: D
}

interface VersionedDoc extends Document {
  _id: string
  version: number
  fill_version: number
}

const MAX_ATTEMPTS = 20

/**
 * Writes `fields` at `version` only when the stored document is older, and keeps `fill_version`:
 * the version at which any of `fillKeys` (the fields copied into orders) last changed. A plain
 * `{_id, version: {$lt}}` upsert cannot compute that from the previous state, so this is a
 * compare-and-set on the version read (insert for a new document, duplicate key = lost a race):
 * concurrent runners never interleave a stale fill_version with newer fields.
 */
export const applyVersioned = async <D extends VersionedDoc>(
  coll: Collection<D>,
  id: string,
  version: number,
  fields: Omit<D, '_id' | 'version' | 'fill_version'>,
  fillKeys: (keyof D & string)[],
): Promise<Applied<D>> => {
  const record = fields as Record<string, unknown>
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const current = (await coll.findOne({_id: id} as Filter<D>)) as D | null
    if (current && current.version >= version) return {applied: false, doc: current}
    const changed = !current || fillKeys.some((k) => current[k] !== record[k])
    const next = {...record, _id: id, version, fill_version: changed ? version : current.fill_version} as unknown as D
    if (!current) {
      try {
        await coll.insertOne(next as never)
        return {applied: true, doc: next}
      } catch (error) {
        if (isDuplicateKey(error)) continue // another runner inserted it first: compare again
        throw error
      }
    }
    const {_id, ...set} = next as Document
    const result = await coll.updateOne({_id: id, version: current.version} as Filter<D>, {$set: set as Partial<D>})
    if (result.matchedCount === 1) return {applied: true, doc: next}
  }
  throw new Error(`view document ${id} kept changing under concurrent writers (${MAX_ATTEMPTS} attempts)`)
}
