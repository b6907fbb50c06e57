import type {Config} from '../config/index.js'
import {resolveEndpoints} from '../infra/platform.js'
import {DLQ_SUFFIX} from '../infra/topology/spec.js'
import {errorMessage, UserError} from '../lib/errors.js'
import type {Logger} from '../lib/logger.js'
import {waitFor} from '../lib/proc.js'
import {createPool} from '../../services/shared/db.js'
import {createCollector, type PlatformSnapshot} from './collectors/index.js'
import {unpublishedOutboxRows} from './outbox.js'
import {collectStatus, type PlatformStatus} from './status.js'

export const WAIT_CONDITIONS = ['ready', 'drained'] as const
export type WaitCondition = (typeof WAIT_CONDITIONS)[number]

export interface WaitCheck {
  name: string
  ok: boolean
  detail: string
}

export interface WaitResult {
  for: WaitCondition
  reached: boolean
  waitedMs: number
  timeoutMs: number
  /** The checks still failing (empty when reached). */
  pending: WaitCheck[]
  /** Every check, as last seen. */
  checks: WaitCheck[]
}

export interface WaitOptions {
  config: Config
  logger: Logger
  for: WaitCondition
  timeoutMs: number
  signal: AbortSignal
  intervalMs?: number
  onProgress?: (pending: WaitCheck[], elapsedMs: number) => void
}

/** `ready`: every server healthy, the supervisor up and every runner it started ready. */
export const readyChecks = (s: PlatformStatus): WaitCheck[] => {
  if (s.runtime === 'none') return [{name: 'platform', ok: false, detail: 'not running (start it with mm up -d)'}]
  return [
    ...s.servers.map((x) => ({name: `server ${x.name}`, ok: x.healthy, detail: x.healthy ? 'healthy' : (x.error ?? 'unhealthy')})),
    {
      name: 'supervisor',
      ok: s.supervisor.running && !s.supervisor.error,
      detail: s.supervisor.error ?? (s.supervisor.running ? `pid ${s.supervisor.pid}` : 'not running (start it with mm up -d)'),
    },
    ...s.runners.map((r) => ({name: `runner ${r.name}`, ok: r.state === 'ready', detail: r.error ? `${r.state}: ${r.error}` : r.state})),
  ]
}

/**
 * `drained`: nothing in flight. Outboxes published, RabbitMQ work queues empty and acked, no Kafka
 * consumer-group lag (a consumer commits only after its effect, and its effect's events are in its
 * outbox by then), and the read model caught up (nothing left to apply, counts agree).
 */
export const drainedChecks = (outbox: Record<string, number> | Error, p: PlatformSnapshot): WaitCheck[] => {
  const checks: WaitCheck[] = []
  if (outbox instanceof Error) checks.push({name: 'outbox', ok: false, detail: outbox.message})
  else for (const [schema, n] of Object.entries(outbox)) checks.push({name: `outbox ${schema}`, ok: n === 0, detail: `${n} unpublished`})
  const rq = p.queues.rabbitmq
  if (rq.error) checks.push({name: 'rabbitmq', ok: false, detail: rq.error})
  else
    for (const q of rq.queues.filter((x) => !x.dlq && !x.name.endsWith(DLQ_SUFFIX)))
      checks.push({name: `rabbitmq ${q.name}`, ok: q.ready === 0 && q.unacked === 0, detail: `${q.ready} ready, ${q.unacked} unacked`})
  const k = p.queues.kafka
  if (k.error) checks.push({name: 'kafka', ok: false, detail: k.error})
  else {
    const groups = new Map<string, {lag: number; topics: string[]}>()
    for (const l of k.lag) {
      const g = groups.get(l.group) ?? {lag: 0, topics: []}
      g.lag += l.lag
      if (l.lag > 0) g.topics.push(`${l.topic} ${l.lag}`)
      groups.set(l.group, g)
    }
    for (const [group, g] of groups)
      checks.push({name: `kafka ${group}`, ok: g.lag === 0, detail: g.lag === 0 ? 'lag 0' : `lag ${g.lag} (${g.topics.join(', ')})`})
  }
  const pr = p.projections
  if (pr.error) checks.push({name: 'read model', ok: false, detail: pr.error})
  else {
    const pending = pr.pendingEvents ?? 0
    const detail =
      pending > 0
        ? `${pending} events to apply`
        : pr.drift.length
          ? `counts differ: ${pr.drift.map((d) => `${d.status} write ${d.write}, read ${d.read}`).join('; ')}`
          : 'caught up'
    checks.push({name: 'read model', ok: pending === 0 && pr.drift.length === 0, detail})
  }
  return checks
}

/**
 * `mm wait --for ready|drained`: polls until the condition holds or the timeout passes. Drained
 * must hold on two polls in a row: the checks read several servers one after another, and an
 * event moving from an outbox to a topic between two reads could otherwise slip through.
 */
export const waitUntil = async (opts: WaitOptions): Promise<WaitResult> => {
  const began = Date.now()
  let checks: WaitCheck[] = []
  const finish = (reached: boolean): WaitResult => ({
    for: opts.for,
    reached,
    waitedMs: Date.now() - began,
    timeoutMs: opts.timeoutMs,
    pending: checks.filter((c) => !c.ok),
    checks,
  })
  const poll = async (collect: () => Promise<WaitCheck[]>, streak: number): Promise<boolean> => {
    let inRow = 0
    const reached = await waitFor(
      async () => {
        try {
          checks = await collect()
        } catch (error) {
          checks = [{name: 'platform', ok: false, detail: errorMessage(error)}]
        }
        inRow = checks.every((c) => c.ok) ? inRow + 1 : 0
        if (inRow >= streak) return true
        opts.onProgress?.(
          checks.filter((c) => !c.ok),
          Date.now() - began,
        )
        return undefined
      },
      {timeoutMs: opts.timeoutMs, intervalMs: opts.intervalMs ?? 500, signal: opts.signal},
    )
    return reached === true
  }

  if (opts.for === 'ready') return finish(await poll(async () => readyChecks(await collectStatus(opts.config, opts.logger, 'none')), 1))

  const endpoints = await resolveEndpoints(opts.config, opts.logger)
  if (!endpoints) throw new UserError('the platform is not running: nothing can be in flight', 'start it with mm up -d')
  const collector = createCollector(endpoints, opts.logger)
  const pool = createPool(endpoints.postgres, opts.logger, 1)
  try {
    const reached = await poll(async () => {
      const [outbox, snapshot] = await Promise.all([
        unpublishedOutboxRows(pool).catch((error: unknown) => new Error(`outbox: ${errorMessage(error)}`)),
        collector.collect(),
      ])
      return drainedChecks(outbox, snapshot)
    }, 2)
    return finish(reached)
  } finally {
    await Promise.allSettled([collector.close(), pool.end()])
  }
}
