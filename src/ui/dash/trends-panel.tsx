import {Text} from 'ink'

import {TREND_MEASURES, type TrendSample} from '../../operations/collectors/trends.js'
import {Panel} from './panel.js'
import {sparkline} from './trends.js'

const fmt = (v: number | undefined, unit: string): string => (v === undefined ? '-' : `${v >= 100 ? v.toFixed(0) : v.toFixed(1)}${unit}`)

/** Sparklines of the last minutes: events/s, HTTP requests/s, Kafka lag and read-model lag. */
export const TrendsPanel = ({
  history,
  focused,
  width,
  columns,
}: {
  history: readonly TrendSample[]
  focused: boolean
  width: string | number
  columns: number
}) => {
  const spark = Math.max(10, columns - 42)
  const minutes = history.length > 1 ? ((history.at(-1)!.at - history[0]!.at) / 60_000).toFixed(1) : '0'
  return (
    <Panel title={`Trends (last ${minutes} min)`} focused={focused} width={width}>
      {history.length === 0 && <Text dimColor>collecting…</Text>}
      {history.length > 0 &&
        TREND_MEASURES.map(({key, label, suffix: unit}) => {
          const values = history.map((s) => s[key])
          const max = Math.max(0, ...values.filter((v): v is number => v !== undefined))
          return (
            <Text key={label} wrap="truncate">
              {label.padEnd(15)}
              <Text color="cyan">{sparkline(values, spark)}</Text> {fmt(values.at(-1), unit).padStart(7)} <Text dimColor>max {fmt(max, unit)}</Text>
            </Text>
          )
        })}
    </Panel>
  )
}
