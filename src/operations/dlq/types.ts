import type {Broker} from './catalog.js'
import type {DlqMessage, ErrorClassCount} from './messages.js'

/** Messages read to find the top error classes of a DLQ (`mm dlq list`) and the skips of a dry run. */
export const SCAN_LIMIT = 1000
export const DRY_RUN_SCAN_LIMIT = 10_000

export interface ReplayOptions {
  /** At most this many messages (replayed + skipped). */
  limit?: number
  /** Messages per second. */
  rate?: number
  /** Messages whose x-replay-count is at least this stay in the DLQ. */
  maxReplays: number
  signal?: AbortSignal
  onProgress?: (p: {replayed: number; skipped: number}) => void
}

export interface ReplayCounts {
  replayed: number
  skipped: number
  /** Messages replayed per destination topic/queue. */
  destinations: Record<string, number>
  interrupted: boolean
  /**
   * Kafka: copies of a message this run already replayed (each consumer group that failed on it
   * dead-lettered its own), moved past without a second replay. Absent when none.
   */
  duplicates?: number
}

export interface DlqSummary {
  name: string
  broker: Broker
  /** The topic or queue its messages came from. */
  source: string
  /** Messages waiting: Kafka pending after the replay group's offsets, RabbitMQ ready messages. */
  messages: number
  /** True when the count comes from offsets only (more than the scan read; may include transaction markers). */
  approximate: boolean
  topErrors: ErrorClassCount[]
  /** Messages read to find topErrors. */
  scanned: number
  error?: string
}

export interface DlqListResult {
  dlqs: DlqSummary[]
  total: number
}

export interface DlqShowResult {
  dlq: string
  broker: Broker
  source: string
  messages: number
  approximate: boolean
  shown: number
  items: DlqMessage[]
}

/** What a replay or purge is about to do, as the y/N question shows it. */
export interface DlqPlan {
  action: 'replay' | 'purge'
  dlq: string
  broker: Broker
  source: string
  /** Messages in the snapshot (what is pending when the command starts). */
  snapshot: number
  approximate: boolean
  /** Messages the command will handle: the snapshot, capped by --limit. */
  count: number
}

export interface ReplayResult extends ReplayCounts {
  dlq: string
  broker: Broker
  source: string
  dryRun: boolean
  /** The user answered no at the y/N question: nothing changed. */
  declined: boolean
  snapshot: number
  approximate: boolean
  maxReplays: number
  /** Dry run: messages read to count the ones --max-replays would skip. */
  scanned?: number
  durationMs: number
}

export interface PurgeResult {
  dlq: string
  broker: Broker
  dryRun: boolean
  declined: boolean
  /** Messages deleted (dry run: that would be). */
  purged: number
  approximate: boolean
}
