import {Text} from 'ink'

import type {RecentTraces} from '../../operations/dash.js'
import type {TraceSummary} from '../../telemetry/spans.js'
import {formatMs} from '../../operations/trace.js'
import {Panel} from './panel.js'

/** The rows of the Traces panel: failed traces first, then the slowest (each once). */
export const traceRows = <T extends TraceSummary>(t: {failed: T[]; slowest: T[]} | undefined): T[] => {
  if (!t) return []
  const seen = new Set<string>()
  return [...t.failed.slice(0, 3), ...t.slowest].filter((x) => !seen.has(x.traceId) && seen.add(x.traceId)).slice(0, 6)
}

const WIDTHS = [11, 24, 38, 5]

/** Left-aligned columns (the durations, routes and ids read best that way). */
const line = (cells: string[]): string => cells.map((c, i) => (c.length > WIDTHS[i]! ? `${c.slice(0, WIDTHS[i]! - 1)}…` : c.padEnd(WIDTHS[i]!))).join(' ')

/** Recent slowest and failed traces; ↑↓ choose one, Enter opens its waterfall. */
export const TracesPanel = ({
  traces,
  error,
  focused,
  selected,
  width,
}: {
  traces: RecentTraces | undefined
  error?: string
  focused: boolean
  selected: number
  width: string | number
}) => {
  const rows = traceRows(traces)
  return (
    <Panel title="Traces (last 5 min: failed, then slowest)" focused={focused} width={width} error={error}>
      {!traces && <Text dimColor>waiting…</Text>}
      {traces && !traces.stored && <Text dimColor>no traces stored yet (tracing is on unless MM_TRACE=off; traces start at HTTP requests)</Text>}
      {traces?.stored && rows.length === 0 && <Text dimColor>no traces in the last 5 minutes</Text>}
      {rows.length > 0 && (
        <Text bold wrap="truncate">
          {line(['DURATION', 'ROOT', 'ORDER', 'SPANS'])}
        </Text>
      )}
      {rows.map((t, i) => {
        const chosen = focused && i === Math.min(selected, rows.length - 1)
        return (
          <Text key={t.traceId} color={chosen ? 'cyan' : t.failed ? 'red' : undefined} bold={chosen} wrap="truncate">
            {line([`${t.failed ? '✗ ' : ''}${formatMs(t.durationMs)}`, t.root, t.aggregateId ?? '', String(t.spans)])}
          </Text>
        )
      })}
      {focused && rows.length > 0 && <Text dimColor>↑↓ choose · Enter waterfall</Text>}
    </Panel>
  )
}
