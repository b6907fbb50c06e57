import type {PlatformSnapshot} from '../../operations/collectors/index.js'
import {table} from '../table.js'
import {style} from '../terminal.js'
import {describeRuns} from './projections.js'

const sumBy = <T>(xs: T[], key: (x: T) => string, value: (x: T) => number): [string, number][] => {
  const m = new Map<string, number>()
  for (const x of xs) m.set(key(x), (m.get(key(x)) ?? 0) + value(x))
  return [...m]
}

const runsLine = (pr: PlatformSnapshot['projections']): string => {
  const runs = describeRuns({verify: pr.lastVerify, rebuild: pr.lastRebuild})
  const verify = pr.lastVerify && !pr.lastVerify.ok ? style.yellow(runs.verify) : runs.verify
  return `\nlast verify ${verify}; last rebuild ${runs.rebuild}`
}

/** The platform part of `mm status`: queues, consumer lag, DLQs, projections, aggregates. */
export const renderSnapshot = (p: PlatformSnapshot): string => {
  const out: string[] = []
  const rq = p.queues.rabbitmq
  out.push(
    rq.error
      ? `${style.red('✗')} RabbitMQ queues: ${rq.error}`
      : table(
          ['QUEUE', 'READY', 'UNACKED', 'CONSUMERS', 'IN/S', 'OUT/S'],
          rq.queues.map((q) => [
            q.dlq && q.ready > 0 ? style.red(q.name) : q.name,
            String(q.ready),
            String(q.unacked),
            String(q.consumers),
            String(q.inPerSec),
            String(q.outPerSec),
          ]),
        ),
  )
  const k = p.queues.kafka
  if (k.error) out.push(`${style.red('✗')} Kafka: ${k.error}`)
  else {
    out.push(
      table(
        ['CONSUMER GROUP', 'LAG'],
        sumBy(
          k.lag,
          (l) => l.group,
          (l) => l.lag,
        ).map(([g, n]) => [g, String(n)]),
      ),
    )
    const dlqs = k.dlqs.filter((d) => d.messages > 0)
    out.push(
      dlqs.length
        ? table(
            ['KAFKA DLQ', 'MESSAGES'],
            dlqs.map((d) => [style.red(d.topic), String(d.messages)]),
          )
        : 'Kafka DLQs: all empty',
    )
  }
  const pr = p.projections
  if (pr.error) out.push(`${style.red('✗')} projections: ${pr.error}`)
  else if (pr.read) {
    const statuses = Object.keys(pr.read.ordersByStatus)
    out.push(
      table(
        ['ORDERS', ...statuses],
        [
          ['write model', ...statuses.map((s) => String(pr.writeByStatus?.[s] ?? 0))],
          ['read model', ...statuses.map((s) => String((pr.read!.ordersByStatus as Record<string, number>)[s] ?? 0))],
        ],
      ) +
        `\nread-model lag ${pr.lagSeconds === undefined ? 'n/a' : `${pr.lagSeconds.toFixed(1)}s`}${pr.pendingEvents ? `, catching up (${pr.pendingEvents} events to apply)` : pr.drift.length ? style.yellow(`, drift in ${pr.drift.map((d) => d.status).join(', ')}`) : ', no drift'}` +
        runsLine(pr),
    )
  }
  const a = p.aggregates
  if (a.error !== undefined) out.push(`${style.red('✗')} aggregates: ${a.error}`)
  else
    out.push(
      `Redis aggregates: ${a.pendingKeys} pending keys; last flush ${a.lastFlush ? `${a.lastFlush.at} (${a.lastFlush.keys} keys)` : 'never'}; next ${a.nextFlushAt ?? 'not scheduled'}`,
    )
  return out.join('\n\n')
}
