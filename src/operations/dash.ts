import {Redis} from 'ioredis'

import {EVENTS_CHANNEL, type FeedEntry, parseFeed} from '../../services/shared/events-feed.js'
import type {Config} from '../config/index.js'
import {resolveEndpoints} from '../infra/platform.js'
import type {Endpoints} from '../infra/types.js'
import {formatDuration} from '../lib/duration.js'
import type {Logger} from '../lib/logger.js'
import {type Collector, createCollector} from './collectors/index.js'
import {replayDlq} from './dlq/index.js'
import {flush} from './flush.js'
import {collectStatus, type PlatformStatus} from './status.js'

/** What the dashboard reads and does; the same collectors as `mm status --json`. */
export interface DashSource {
  status(): Promise<PlatformStatus>
  subscribe(onEntry: (e: FeedEntry) => void, onState: (connected: boolean, error?: string) => void): () => void
  flush(): Promise<string>
  replay(dlq: string): Promise<string>
  close(): Promise<void>
}

export const createDashSource = (config: Config, logger: Logger): DashSource => {
  // One collector, kept open between refreshes; rebuilt if the platform moved (new ports).
  let current: {key: string; collector: Collector} | undefined
  const collectorFor = async (): Promise<Collector | undefined> => {
    const endpoints = await resolveEndpoints(config, logger).catch(() => undefined)
    if (!endpoints) return undefined
    const key = JSON.stringify(endpoints)
    if (current?.key !== key) {
      await current?.collector.close()
      current = {key, collector: createCollector(endpoints, logger)}
    }
    return current.collector
  }

  return {
    async status() {
      const collector = await collectorFor()
      return collectStatus(config, logger, collector)
    },

    subscribe(onEntry, onState) {
      let stopped = false
      let sub: Redis | undefined
      let retry: NodeJS.Timeout | undefined
      const connect = async () => {
        const endpoints: Endpoints | undefined = await resolveEndpoints(config, logger).catch(() => undefined)
        if (stopped) return
        if (!endpoints) {
          onState(false, 'platform not running')
          retry = setTimeout(() => void connect(), 2000)
          return
        }
        sub = new Redis(endpoints.redis, {maxRetriesPerRequest: null, retryStrategy: (n) => Math.min(n * 500, 3000)})
        sub.on('error', (error: Error) => onState(false, error.message))
        sub.on('ready', () => onState(true))
        sub.on('message', (_channel: string, text: string) => {
          for (const entry of parseFeed(text)) onEntry(entry)
        })
        await sub.subscribe(EVENTS_CHANNEL).catch((error: Error) => onState(false, error.message))
      }
      void connect()
      return () => {
        stopped = true
        clearTimeout(retry)
        sub?.disconnect()
      }
    },

    async flush() {
      const r = await flush(config, logger)
      return r.flushId === null && r.resumed.length === 0 ? 'flush: nothing to flush' : `flushed ${r.keys} keys into ${r.rows} rows in ${formatDuration(r.durationMs)}`
    },

    async replay(dlq) {
      const endpoints = await resolveEndpoints(config, logger)
      if (!endpoints) throw new Error('the platform is not running')
      const r = await replayDlq({endpoints, logger, dlq, maxReplays: 3})
      return `replayed ${r.replayed} of ${r.dlq} (${r.skipped} skipped by the loop guard)`
    },

    async close() {
      await current?.collector.close()
    },
  }
}
