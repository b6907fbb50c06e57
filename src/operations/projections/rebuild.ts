import {type RebuildProgress, type RebuildViewResult, RebuildInProgress, rebuildViews, type SwapStrategy} from '../../../services/query/rebuild.js'
import {recordRebuild, type RebuildRun} from '../../../services/query/runs.js'
import {SOURCES} from '../../../services/query/sources.js'
import {VIEW_ORDER} from '../../../services/query/verify.js'
import {VIEW_COLLECTIONS, type ViewKey, type ViewName} from '../../../services/query/views.js'
import {errorMessage, UserError} from '../../lib/errors.js'
import {type Clients, openClients, type ProjectionsDeps, swapStrategyFor} from './clients.js'
import {type ProjectionsProgress, verifyWith, type VerifyResult} from './verify.js'

/** What a rebuild will do, fixed before anything changes (and all a dry run does). */
export interface RebuildPlan {
  views: {view: ViewName; rows: number; documents: number}[]
  swap: SwapStrategy
}

export interface RebuildResult {
  at: string
  plan: RebuildPlan
  dryRun: boolean
  declined: boolean
  interrupted: boolean
  swap: SwapStrategy
  views: RebuildViewResult[]
  /** Documents built into the shadows. */
  documents: number
  /** Documents built per second (build phase and catch-up, swap included; the final verify not). */
  docsPerSec: number
  durationMs: number
  /** The verify the rebuild ends with (absent for a dry run, a declined or an interrupted one). */
  verify?: VerifyResult
  /** Rebuilt, swapped in, and the verify after it found nothing. */
  ok: boolean
}

export type RebuildProgressEvent = ({stage: 'rebuild'} & RebuildProgress) | ProjectionsProgress

export interface RebuildProjectionsOptions {
  views?: ViewKey[]
  dryRun?: boolean
  /** Asked once the plan is known, before anything changes; false changes nothing. */
  confirm?: (plan: RebuildPlan) => Promise<boolean>
  /** Default: what the server can do atomically (see swapStrategyFor). */
  swap?: SwapStrategy
  signal?: AbortSignal
  onProgress?: (p: RebuildProgressEvent) => void
  /** For the verify at the end. */
  limit: number
  timeoutMs: number
  batchSize?: number
}

const plan = async (clients: Clients, keys: readonly ViewKey[], swap: SwapStrategy | undefined): Promise<RebuildPlan> => ({
  views: await Promise.all(
    keys.map(async (k) => ({
      view: VIEW_COLLECTIONS[k],
      rows: await SOURCES[k].count(clients.pool),
      documents: await clients.db.collection(VIEW_COLLECTIONS[k]).countDocuments(),
    })),
  ),
  swap: swap ?? (await swapStrategyFor(clients.db)),
})

/** `mm projections rebuild`: plan, ask, rebuild into shadows and swap them in, verify, record the run. */
export const rebuildProjections = async (deps: ProjectionsDeps, opts: RebuildProjectionsOptions): Promise<RebuildResult> => {
  const clients = await openClients(deps)
  const began = Date.now()
  const at = new Date().toISOString()
  try {
    const p = await plan(
      clients,
      VIEW_ORDER.filter((k) => (opts.views ?? VIEW_ORDER).includes(k)),
      opts.swap,
    )
    const result = (extra: Partial<RebuildResult>): RebuildResult => ({
      at,
      plan: p,
      dryRun: false,
      declined: false,
      interrupted: false,
      swap: p.swap,
      views: [],
      documents: 0,
      docsPerSec: 0,
      durationMs: Date.now() - began,
      ok: false,
      ...extra,
    })
    if (opts.dryRun) return result({dryRun: true})
    if (opts.confirm && !(await opts.confirm(p))) return result({declined: true})

    const started = Date.now()
    let outcome
    try {
      outcome = await rebuildViews(
        {pool: clients.pool, db: clients.db},
        {views: opts.views, swap: p.swap, batchSize: opts.batchSize, signal: opts.signal, onProgress: (x) => opts.onProgress?.({stage: 'rebuild', ...x})},
      )
    } catch (error) {
      if (error instanceof RebuildInProgress)
        throw new UserError('another rebuild of the views is running', 'wait for it to finish (mm status shows the last rebuild), then run this again')
      await record(clients, deps, {
        at,
        durationMs: Date.now() - began,
        ok: false,
        swap: p.swap,
        interrupted: false,
        error: errorMessage(error),
        documents: 0,
        changed: 0,
        views: p.views.map((v) => v.view),
      })
      throw error
    }
    const rebuildMs = Date.now() - started
    const documents = outcome.views.reduce((n, v) => n + v.built, 0)
    const base = {
      swap: outcome.swap,
      views: outcome.views,
      documents,
      docsPerSec: Math.round((documents / Math.max(rebuildMs, 1)) * 1000),
      interrupted: outcome.interrupted,
    }
    const run = (ok: boolean): RebuildRun => ({
      at,
      durationMs: Date.now() - began,
      ok,
      swap: outcome.swap,
      interrupted: outcome.interrupted,
      documents,
      changed: outcome.views.reduce((n, v) => n + v.written + v.removed, 0),
      views: outcome.views.map((v) => v.view),
    })
    if (outcome.interrupted) {
      await record(clients, deps, run(false))
      return result(base)
    }
    // The rebuild ends with a verify; Ctrl-C during it stops the verify only (the views are rebuilt by then).
    const verify = await verifyWith(clients, deps, {
      views: opts.views,
      limit: opts.limit,
      timeoutMs: opts.timeoutMs,
      signal: opts.signal,
      onProgress: opts.onProgress,
      batchSize: opts.batchSize,
    })
    await record(clients, deps, run(verify.ok))
    return result({...base, verify, ok: verify.ok, durationMs: Date.now() - began})
  } finally {
    await clients.close()
  }
}

const record = (clients: Clients, deps: ProjectionsDeps, run: RebuildRun) =>
  recordRebuild(clients.db, run).catch((error: unknown) => deps.logger.warn('projections.record_failed', {error: errorMessage(error)}))
