import {Text} from 'ink'

import {Panel} from './panel.js'
import {sparkline, type TrendSample} from './trends.js'

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
  const rows: [string, (s: TrendSample) => number | undefined, string][] = [
    ['events/s', (s) => s.eventsPerSec, ''],
    ['http req/s', (s) => s.httpPerSec, ''],
    ['kafka lag', (s) => s.kafkaLag, ''],
    ['read-model lag', (s) => s.readModelLagSec, 's'],
  ]
  return (
    <Panel title={`Trends (last ${minutes} min)`} focused={focused} width={width}>
      {history.length === 0 && <Text dimColor>collecting…</Text>}
      {history.length > 0 &&
        rows.map(([label, pick, unit]) => {
          const values = history.map(pick)
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
