import {Box, Text} from 'ink'

import type {PlatformStatus} from '../../operations/status.js'
import {formatDuration} from '../../lib/duration.js'
import {Panel, Row} from './panel.js'

/** Servers and runners: state, uptime, events handled, errors, HTTP requests per second. */
export const ServicesPanel = ({
  status,
  reqPerSec,
  focused,
  width,
}: {
  status?: PlatformStatus
  reqPerSec: Record<string, number>
  focused: boolean
  width: string
}) => {
  if (!status)
    return (
      <Panel title="Services" focused={focused} width={width}>
        <Text dimColor>waiting for the first poll…</Text>
      </Panel>
    )
  if (status.runtime === 'none') return <Panel title="Services" focused={focused} width={width} error="platform not running (start it with mm up -d)" />
  const w = [10, 8, 8, 9, 7, 7]
  return (
    <Panel title={`Services (${status.runtime})`} focused={focused} width={width}>
      <Box flexDirection="row" flexWrap="wrap" columnGap={2}>
        {status.servers.map((s) => (
          <Text key={s.name} color={s.healthy ? 'green' : 'red'}>
            {s.healthy ? '●' : '✗'} {s.name}
          </Text>
        ))}
      </Box>
      {status.servers
        .filter((s) => !s.healthy)
        .map((s) => (
          <Text key={s.name} color="red" wrap="truncate">
            {s.name}: {s.error}
          </Text>
        ))}
      {!status.supervisor.running && <Text color="red">runners not running{status.supervisor.error ? `: ${status.supervisor.error}` : ''}</Text>}
      {status.supervisor.error && status.supervisor.running && <Text color="red">{status.supervisor.error}</Text>}
      <Row bold cells={['RUNNER', 'STATE', 'UPTIME', 'HANDLED', 'ERRORS', 'REQ/S']} widths={w} />
      {status.runners.map((r) => (
        <Row
          key={r.name}
          color={r.state === 'ready' ? undefined : 'red'}
          cells={[
            r.name,
            r.state,
            r.uptimeSeconds === undefined ? '-' : formatDuration(r.uptimeSeconds * 1000),
            r.counters.handled,
            r.counters.failed + r.counters.deadLettered,
            (reqPerSec[r.name] ?? 0).toFixed(1),
          ]}
          widths={w}
        />
      ))}
    </Panel>
  )
}
