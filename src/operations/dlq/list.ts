import {errorMessage} from '../../lib/errors.js'
import {dlqCatalog, type DlqDeps, type DlqEntry, replayGroupOf} from './catalog.js'
import {withKafka, withRabbit} from './clients.js'
import {summarizeKafka} from './kafka-peek.js'
import {kafkaRanges, type KafkaRange} from './kafka-read.js'
import {topErrorClasses} from './messages.js'
import {peekRabbit, rabbitCount} from './rabbit.js'
import {type DlqListResult, type DlqSummary, SCAN_LIMIT} from './types.js'

/**
 * Every DLQ of both brokers with its pending count and top error classes (from the headers of
 * the first `scanLimit` pending messages). A broker that cannot be reached marks its DLQs with
 * `error` instead of failing the whole list.
 */
export const listDlqs = async (deps: DlqDeps & {scanLimit?: number}): Promise<DlqListResult> => {
  const catalog = dlqCatalog(deps.ns, deps.topology)
  const scanLimit = deps.scanLimit ?? SCAN_LIMIT
  const kafkaEntries = catalog.filter((e) => e.broker === 'kafka')
  const rabbitEntries = catalog.filter((e) => e.broker === 'rabbitmq')
  const [kafka, rabbit] = await Promise.all([
    listKafka(deps, kafkaEntries, scanLimit).catch((error) => failed(kafkaEntries, error)),
    listRabbit(deps, rabbitEntries, scanLimit).catch((error) => failed(rabbitEntries, error)),
  ])
  const dlqs = [...kafka, ...rabbit]
  return {dlqs, total: dlqs.reduce((sum, d) => sum + d.messages, 0)}
}

const failed = (entries: DlqEntry[], error: unknown): DlqSummary[] =>
  entries.map((e) => ({
    name: e.name,
    broker: e.broker,
    source: e.source,
    messages: 0,
    approximate: false,
    topErrors: [],
    scanned: 0,
    error: errorMessage(error),
  }))

const listKafka = (deps: DlqDeps, entries: DlqEntry[], scanLimit: number): Promise<DlqSummary[]> =>
  withKafka(deps, async (k) => {
    // A missing topic marks its own row; the others are still counted.
    const looked = await Promise.all(
      entries.map(async (entry): Promise<{entry: DlqEntry; ranges: KafkaRange[]} | {entry: DlqEntry; error: unknown}> => {
        try {
          return {entry, ranges: await kafkaRanges(k.admin, entry, replayGroupOf(entry, k.ns))}
        } catch (error) {
          return {entry, error}
        }
      }),
    )
    const items = looked.flatMap((l) => ('ranges' in l ? [l] : []))
    const summaries = await summarizeKafka(k, items, scanLimit)
    return looked.map((l) => {
      const s = summaries.get(l.entry.name)
      if (!s) return failed([l.entry], 'error' in l ? l.error : 'not read')[0]!
      return {
        name: l.entry.name,
        broker: 'kafka' as const,
        source: l.entry.source,
        messages: s.messages,
        approximate: s.approximate,
        topErrors: topErrorClasses(s.scanned.map((m) => m.error)),
        scanned: s.scanned.length,
      }
    })
  })

const listRabbit = (deps: DlqDeps, entries: DlqEntry[], scanLimit: number): Promise<DlqSummary[]> =>
  withRabbit(deps, async (conn) => {
    const out: DlqSummary[] = []
    for (const entry of entries) {
      try {
        const messages = await rabbitCount(conn, entry.name)
        const scanned = messages > 0 ? await peekRabbit(conn, entry, Math.min(messages, scanLimit)) : []
        out.push({
          name: entry.name,
          broker: 'rabbitmq',
          source: entry.source,
          messages,
          approximate: false,
          topErrors: topErrorClasses(scanned.map((m) => m.error)),
          scanned: scanned.length,
        })
      } catch (error) {
        out.push(...failed([entry], error))
      }
    }
    return out
  })
