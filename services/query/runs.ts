import type {Db} from 'mongodb'

import type {ViewName} from './views.js'

/**
 * The last verify and the last rebuild of the views, kept beside them: one document each in the
 * collection `projections_runs` of the read model's own database. There, they share the views'
 * namespace, server and lifetime (`mm down -v` removes both; a restart keeps both), every reader
 * that shows the views (`mm status --json`, `mm dash`) already talks to that server, and one
 * `find` reads both.
 */
export const RUNS_COLLECTION = 'projections_runs'

export interface ViewCounts {
  view: ViewName
  /** Rows of the write model. */
  rows: number
  /** Documents of the view. */
  documents: number
  differing: number
  missing: number
  extra: number
}

export interface VerifyRun {
  at: string
  durationMs: number
  /** No document differs. */
  ok: boolean
  /** The read model had applied everything the write models held when the verify started. */
  caughtUp: boolean
  /** Documents that differ, are missing or are extra, over all views. */
  differences: number
  /** Documents still changing at the end of the rechecks (not counted as differences). */
  unsettled: number
  views: ViewCounts[]
}

export interface RebuildRun {
  at: string
  durationMs: number
  /** The verify that ended the rebuild found nothing (false also when it was interrupted or failed). */
  ok: boolean
  swap: 'rename' | 'copy'
  interrupted: boolean
  error?: string
  /** Documents built into the shadow collections. */
  documents: number
  /** Documents of the live views the swap changed (rename: every one). */
  changed: number
  views: ViewName[]
}

export interface LastRuns {
  verify?: VerifyRun
  rebuild?: RebuildRun
}

type Stored<K extends string, T> = T & {_id: K}

export const recordVerify = async (db: Db, run: VerifyRun): Promise<void> => {
  await db.collection<Stored<'verify', VerifyRun>>(RUNS_COLLECTION).replaceOne({_id: 'verify'}, run, {upsert: true})
}

export const recordRebuild = async (db: Db, run: RebuildRun): Promise<void> => {
  await db.collection<Stored<'rebuild', RebuildRun>>(RUNS_COLLECTION).replaceOne({_id: 'rebuild'}, run, {upsert: true})
}

export const lastRuns = async (db: Db): Promise<LastRuns> => {
  const docs = await db
    .collection<{_id: string}>(RUNS_COLLECTION)
    .find({_id: {$in: ['verify', 'rebuild']}})
    .toArray()
  const out: LastRuns = {}
  for (const {_id, ...run} of docs) {
    if (_id === 'verify') out.verify = run as unknown as VerifyRun
    if (_id === 'rebuild') out.rebuild = run as unknown as RebuildRun
  }
  return out
}
