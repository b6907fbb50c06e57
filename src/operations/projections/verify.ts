import {recordVerify, type VerifyRun} from '../../../services/query/runs.js'
import {type Difference, type VerifyProgress, verifyViews, type ViewVerdict} from '../../../services/query/verify.js'
import type {ViewKey} from '../../../services/query/views.js'
import {errorMessage} from '../../lib/errors.js'
import {type CatchUpResult, waitForCatchUp} from './catch-up.js'
import {type Clients, openClients, type ProjectionsDeps} from './clients.js'

export interface VerifyResult {
  at: string
  /** No document differs, none is missing, none is extra (and the verify was not interrupted). */
  ok: boolean
  /** The read model had applied what the write models held when the verify began (or said why not). */
  catchUp: CatchUpResult
  views: ViewVerdict[]
  /** Differences found, over all views (missing and extra included). */
  total: number
  /** The first `limit` of them, each with both values. */
  differences: Difference[]
  /** Documents still changing at the end of the rechecks: not counted as differences. */
  unsettled: number
  rows: number
  documents: number
  durationMs: number
  /** Documents compared (write-model rows) per second, waits included. */
  docsPerSec: number
  interrupted: boolean
}

export type ProjectionsProgress = {stage: 'catch-up'; unpublished: number; pendingEvents: number; elapsedMs: number} | ({stage: 'verify'} & VerifyProgress)

export interface VerifyProjectionsOptions {
  views?: ViewKey[]
  limit: number
  /** How long to wait for the read model to catch up first. */
  timeoutMs: number
  signal?: AbortSignal
  onProgress?: (p: ProjectionsProgress) => void
  batchSize?: number
}

const RECHECK_MS = 30_000

/** `mm projections verify`: connect, wait for the read model, compare every document, record the run. */
export const verifyProjections = async (deps: ProjectionsDeps, opts: VerifyProjectionsOptions): Promise<VerifyResult> => {
  const clients = await openClients(deps)
  try {
    return await verifyWith(clients, deps, opts)
  } finally {
    await clients.close()
  }
}

/** The same on open clients (a rebuild ends with it). */
export const verifyWith = async (clients: Clients, deps: ProjectionsDeps, opts: VerifyProjectionsOptions): Promise<VerifyResult> => {
  const began = Date.now()
  const at = new Date().toISOString()
  const catchUp = (timeoutMs: number) =>
    waitForCatchUp({
      pool: clients.pool,
      admin: clients.admin,
      ns: clients.ns,
      timeoutMs,
      signal: opts.signal,
      onProgress: (p) => opts.onProgress?.({stage: 'catch-up', ...p}),
    })
  const first = await catchUp(opts.timeoutMs)
  const outcome = await verifyViews(
    {pool: clients.pool, db: clients.db},
    {
      views: opts.views,
      batchSize: opts.batchSize,
      signal: opts.signal,
      onProgress: (p) => opts.onProgress?.({stage: 'verify', ...p}),
      // Rechecks wait again, but not as long once the read model proved it keeps up.
      settle: async () => (first.caughtUp ? (await catchUp(Math.min(opts.timeoutMs, RECHECK_MS))).caughtUp : false),
      recheckMs: RECHECK_MS,
    },
  )
  const durationMs = Date.now() - began
  const total = outcome.views.reduce((n, v) => n + v.differing + v.missing + v.extra, 0)
  const result: VerifyResult = {
    at,
    ok: total === 0 && !outcome.interrupted,
    catchUp: first.caughtUp && outcome.caughtUp === false ? {...first, caughtUp: false} : first,
    views: outcome.views,
    total,
    differences: outcome.differences.slice(0, opts.limit),
    unsettled: outcome.views.reduce((n, v) => n + v.unsettled, 0),
    rows: outcome.rows,
    documents: outcome.documents,
    durationMs,
    docsPerSec: Math.round((outcome.rows / Math.max(durationMs, 1)) * 1000),
    interrupted: outcome.interrupted,
  }
  if (!outcome.interrupted) {
    const run: VerifyRun = {
      at,
      durationMs,
      ok: result.ok,
      caughtUp: result.catchUp.caughtUp,
      differences: total,
      unsettled: result.unsettled,
      views: outcome.views.map(({view, rows, documents, differing, missing, extra}) => ({view, rows, documents, differing, missing, extra})),
    }
    await recordVerify(clients.db, run).catch((error: unknown) => deps.logger.warn('projections.record_failed', {error: errorMessage(error)}))
  }
  return result
}
