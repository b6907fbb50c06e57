import type {Db} from 'mongodb'
import type pg from 'pg'

import {lastRuns, type RebuildRun, type VerifyRun} from '../../../services/query/runs.js'
import {orderStatusStats} from '../../../services/order/repository.js'
import {newestOrderViewChange, projectionStats, type ProjectionStats} from '../../../services/query/stats.js'
import {errorMessage} from '../../lib/errors.js'

export interface ProjectionsSnapshot {
  read?: ProjectionStats
  /** Orders by status in the write model (PostgreSQL). */
  writeByStatus?: Record<string, number>
  /** How far the read model's newest order change trails the write model's, in seconds. */
  lagSeconds?: number
  /**
   * Statuses whose counts disagree between the write and the read model while the query consumer
   * has nothing left to read (a true disagreement, not lag); empty while it is catching up.
   */
  drift: {status: string; write: number; read: number}[]
  /** Events the query consumer still has to apply (its Kafka lag). */
  pendingEvents?: number
  /** The last `mm projections verify` (also the one a rebuild ends with), and the last rebuild. */
  lastVerify?: VerifyRun
  lastRebuild?: RebuildRun
  /** When these counts were read: a dashboard repeats them between reads (collectors/index.ts). */
  measuredAt?: string
  /** The dashboard's first count of the views is still under way (a large read model): no counts yet. */
  counting?: boolean
  error?: string
}

/** The read model against the write model: counts by status, newest change, disagreements. */
export const collectProjections = async (db: Db, pool: pg.Pool): Promise<ProjectionsSnapshot> => {
  try {
    // Each component reads its own storage (services/order, services/query); this only compares.
    const [read, write, newestRead, runs] = await Promise.all([projectionStats(db), orderStatusStats(pool), newestOrderViewChange(db), lastRuns(db)])
    const writeByStatus: Record<string, number> = Object.fromEntries(Object.keys(read.ordersByStatus).map((s) => [s, 0]))
    Object.assign(writeByStatus, write.byStatus)
    const drift = Object.keys(writeByStatus)
      .map((status) => ({status, write: writeByStatus[status] ?? 0, read: (read.ordersByStatus as Record<string, number>)[status] ?? 0}))
      .filter((d) => d.write !== d.read)
    const w = write.newestChange?.getTime()
    const r = newestRead?.getTime()
    const lagSeconds = w === undefined ? 0 : r === undefined ? undefined : Math.max(0, (w - r) / 1000)
    return {read, writeByStatus, lagSeconds, drift, lastVerify: runs.verify, lastRebuild: runs.rebuild}
  } catch (error) {
    return {drift: [], error: errorMessage(error)}
  }
}
