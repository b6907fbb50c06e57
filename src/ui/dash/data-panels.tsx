import {Text} from 'ink'

import type {FeedEntry} from '../../../services/shared/events-feed.js'
import {formatDuration} from '../../lib/duration.js'
import type {PlatformSnapshot} from '../../operations/collectors/index.js'
import {formatMoney} from '../money.js'
import {describeRuns} from '../text/projections.js'
import type {FeedState} from './use-feed.js'
import {Panel, Row} from './panel.js'

/** Read model against write model: orders by status, latest orders, lag, drift, the last verify and rebuild (v, b run them). */
export const ProjectionsPanel = ({
  snapshot,
  focused,
  width,
  unavailable,
  now = Date.now(),
}: {
  snapshot?: PlatformSnapshot
  focused: boolean
  width: string
  unavailable?: string
  now?: number
}) => {
  const p = snapshot?.projections
  if (!p)
    return (
      <Panel title="Projections" focused={focused} width={width} error={unavailable}>
        <Text dimColor>waiting…</Text>
      </Panel>
    )
  if (p.counting)
    return (
      <Panel title="Projections (MongoDB read model)" focused={focused} width={width}>
        <Text dimColor>counting the views… (a large read model takes a few seconds)</Text>
      </Panel>
    )
  if (p.error || !p.read) return <Panel title="Projections" focused={focused} width={width} error={p.error ?? 'no data'} />
  const statuses = Object.keys(p.read.ordersByStatus)
  const w = [12, ...statuses.map(() => 9)]
  return (
    <Panel title="Projections (MongoDB read model)" focused={focused} width={width}>
      <Row bold cells={['ORDERS', ...statuses]} widths={w} />
      <Row cells={['write', ...statuses.map((s) => p.writeByStatus?.[s] ?? 0)]} widths={w} />
      <Row cells={['read', ...statuses.map((s) => (p.read!.ordersByStatus as Record<string, number>)[s] ?? 0)]} widths={w} />
      <Text>
        lag {p.lagSeconds === undefined ? 'n/a' : `${p.lagSeconds.toFixed(1)}s`} ·{' '}
        {p.pendingEvents ? (
          <Text color="cyan">catching up ({p.pendingEvents} events to apply)</Text>
        ) : p.drift.length ? (
          <Text color="yellow">drift {p.drift.map((d) => `${d.status} ${d.write}≠${d.read}`).join(', ')}</Text>
        ) : (
          <Text color="green">no drift</Text>
        )}{' '}
        · views {p.read.counts.orders}/{p.read.counts.products}/{p.read.counts.customers}
        {measuredAgo(p.measuredAt, now)}
      </Text>
      <RunsLine snapshot={p} now={now} />
      {p.read.latestOrders.map((o) => (
        <Text key={o.id} wrap="truncate" dimColor>
          {o.id.slice(0, 8)} {o.status.padEnd(8)} {formatMoney(o.total_cents).padStart(12)} {o.customer?.name ?? '?'}
        </Text>
      ))}
    </Panel>
  )
}

/** " · counted 12s ago" once the counts are older than a refresh or two (a large read model is re-read less often). */
const measuredAgo = (at: string | undefined, now: number): string => {
  const age = at ? now - Date.parse(at) : 0
  return age >= 3000 ? ` · counted ${formatDuration(age)} ago` : ''
}

const RunsLine = ({snapshot: p, now}: {snapshot: PlatformSnapshot['projections']; now: number}) => {
  const runs = describeRuns({verify: p.lastVerify, rebuild: p.lastRebuild}, now)
  return (
    <Text wrap="truncate">
      <Text dimColor>[v]</Text> verify <Text color={p.lastVerify && !p.lastVerify.ok ? 'yellow' : undefined}>{runs.verify}</Text> · <Text dimColor>[b]</Text>{' '}
      rebuild {runs.rebuild}
    </Text>
  )
}

/** Redis aggregates of ingest: pending keys, top aggregates, time since last and to next flush. */
export const AggregatesPanel = ({
  snapshot,
  focused,
  width,
  now,
  unavailable,
}: {
  snapshot?: PlatformSnapshot
  focused: boolean
  width: string
  now: number
  unavailable?: string
}) => {
  const a = snapshot?.aggregates
  if (!a)
    return (
      <Panel title="Redis aggregates" focused={focused} width={width} error={unavailable}>
        <Text dimColor>waiting…</Text>
      </Panel>
    )
  if (a.error !== undefined) return <Panel title="Redis aggregates" focused={focused} width={width} error={a.error} />
  const since = a.lastFlush ? formatDuration(now - Date.parse(a.lastFlush.at)) + ' ago' : 'never'
  const next = a.nextFlushAt ? formatDuration(Math.max(0, Date.parse(a.nextFlushAt) - now)) : 'not scheduled'
  return (
    <Panel title="Redis aggregates (ingest)" focused={focused} width={width}>
      <Text>
        pending keys <Text bold>{a.pendingKeys}</Text>
        {a.pendingFlushes > 0 ? <Text color="yellow"> · {a.pendingFlushes} interrupted flush(es) pending</Text> : null}
      </Text>
      <Text>
        last flush {since}
        {a.lastFlush ? ` (${a.lastFlush.keys} keys)` : ''} · next in {next} <Text dimColor>(f flushes now)</Text>
      </Text>
      {a.top.map((t) => (
        <Text key={`${t.tenant}|${t.product_sku}|${t.use_unity}`} wrap="truncate">
          {t.tenant} / {t.product_sku} / {t.use_unity}: <Text bold>{t.amount}</Text>
        </Text>
      ))}
    </Panel>
  )
}

const icon = (e: FeedEntry) => (e.outcome === 'dead-lettered' ? '✗' : e.outcome === 'published' ? '↑' : '✓')

/** The live feed of handled events from `mm:events`; `/` filters it, alike entries arriving fast are grouped. */
export const FeedPanel = ({
  feed,
  focused,
  rows,
  filter = '',
  editing,
}: {
  feed: FeedState
  focused: boolean
  rows: number
  filter?: string
  editing?: string
}) => (
  <Panel
    title={`Live events ${feed.connected ? '' : '(disconnected)'}${filter ? `· filter "${filter}" (/ to change, Esc clears)` : ''}`}
    focused={focused}
    error={feed.connected ? undefined : feed.error}
  >
    {editing !== undefined && (
      <Text color="cyan">
        / {editing}
        <Text inverse> </Text> <Text dimColor>(words to match · Enter applies · Esc cancels)</Text>
      </Text>
    )}
    {feed.entries.length === 0 && <Text dimColor>{filter ? `no events matching "${filter}" yet` : 'no events yet'}</Text>}
    {feed.entries.slice(0, editing !== undefined ? rows - 1 : rows).map((e, i) => (
      <Text key={`${e.at}-${i}`} color={e.outcome === 'dead-lettered' ? 'red' : undefined} wrap="truncate">
        {e.at.slice(11, 23)} {icon(e)} {e.runner.padEnd(9)} {e.type.padEnd(16)} {e.count > 1 ? `×${e.count} (newest ${e.id ?? '-'})` : (e.id ?? '')}{' '}
        {e.detail ? `— ${e.detail}` : ''}
      </Text>
    ))}
  </Panel>
)
