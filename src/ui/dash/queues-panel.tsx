import {Text} from 'ink'

import type {PlatformSnapshot} from '../../operations/collectors/index.js'
import {Panel, Row} from './panel.js'

export interface DlqRow {
  name: string
  broker: 'kafka' | 'rabbitmq'
  messages: number
}

/** Every DLQ of both brokers, in a stable order, for selection and replay. */
export const dlqRows = (p?: PlatformSnapshot): DlqRow[] => [
  ...(p?.queues.rabbitmq.queues.filter((q) => q.dlq).map((q) => ({name: q.name, broker: 'rabbitmq' as const, messages: q.ready})) ?? []),
  ...(p?.queues.kafka.dlqs.map((d) => ({name: d.topic, broker: 'kafka' as const, messages: d.messages})) ?? []),
]

/** RabbitMQ queues, Kafka consumer lag per group and topic, DLQs (red when not empty). */
export const QueuesPanel = ({
  snapshot,
  focused,
  selectedDlq,
  width,
  unavailable,
}: {
  snapshot?: PlatformSnapshot
  focused: boolean
  selectedDlq: number
  width: string
  unavailable?: string
}) => {
  if (!snapshot)
    return (
      <Panel title="Queues" focused={focused} width={width} error={unavailable}>
        <Text dimColor>waiting…</Text>
      </Panel>
    )
  const rq = snapshot.queues.rabbitmq
  const k = snapshot.queues.kafka
  const wq = [24, 7, 8, 5, 7, 7]
  const lagging = k.lag.filter((l) => l.lag > 0)
  const groups = new Map<string, number>()
  for (const l of k.lag) groups.set(l.group, (groups.get(l.group) ?? 0) + l.lag)
  const dlqs = dlqRows(snapshot)
  return (
    <Panel title="Queues" focused={focused} width={width}>
      {rq.error ? (
        <Text color="red">✗ RabbitMQ: {rq.error}</Text>
      ) : (
        <Row bold cells={['RABBITMQ QUEUE', 'READY', 'UNACKED', 'CONS', 'IN/S', 'OUT/S']} widths={wq} />
      )}
      {rq.queues
        .filter((q) => !q.dlq)
        .map((q) => (
          <Row key={q.name} cells={[q.name, q.ready, q.unacked, q.consumers, q.inPerSec, q.outPerSec]} widths={wq} />
        ))}
      {k.error ? (
        <Text color="red">✗ Kafka: {k.error}</Text>
      ) : (
        <Text wrap="truncate">
          lag: {[...groups].map(([g, n]) => `${g} ${n}`).join(' · ') || 'no groups'}
          {lagging.length > 0
            ? ` (${lagging
                .map((l) => `${l.topic} ${l.lag}`)
                .slice(0, 3)
                .join(', ')})`
            : ''}
        </Text>
      )}
      <Text bold>DLQ {focused ? <Text dimColor>(↑↓ select, r replay)</Text> : null}</Text>
      {dlqs
        .filter((d, i) => d.messages > 0 || (focused && i === selectedDlq))
        .map((d) => {
          const i = dlqs.indexOf(d)
          const selected = focused && i === selectedDlq
          return (
            <Text key={d.name} color={d.messages > 0 ? 'red' : undefined} inverse={selected} wrap="truncate">
              {selected ? '› ' : '  '}
              {d.name} ({d.broker}) {d.messages}
            </Text>
          )
        })}
      {dlqs.every((d) => d.messages === 0) && <Text color="green">all {dlqs.length} DLQs empty</Text>}
    </Panel>
  )
}
