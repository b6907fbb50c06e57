/**
 * Fixtures and helpers for the dashboard's Ink tests (test/ui/dash*.test.tsx): PlatformStatus
 * values shaped as `mm status --json` returns them, an in-memory DashSource, and frame polling
 * with a deadline (never fixed sleeps).
 */
import type {FeedEntry} from '../../services/shared/events-feed.js'
import type {ServerStatus} from '../../src/infra/types.js'
import type {PlatformSnapshot} from '../../src/operations/collectors/index.js'
import type {DashSource, Outcome, RecentTraces} from '../../src/operations/dash.js'
import type {TraceResult, WaterfallSpan} from '../../src/operations/trace.js'
import type {TraceSummary} from '../../src/telemetry/spans.js'
import type {PlatformStatus} from '../../src/operations/status.js'
import type {RunnerReport} from '../../src/runtime/supervisor.js'

// ---------------------------------------------------------------------------------------------
// Fixtures

const SERVER_NAMES: ServerStatus['name'][] = ['postgres', 'redis', 'rabbitmq', 'kafka', 'mongo']

export const servers = (overrides: Partial<Record<ServerStatus['name'], Partial<ServerStatus>>> = {}): ServerStatus[] =>
  SERVER_NAMES.map((name) => ({name, runtime: 'native' as const, url: `${name}://127.0.0.1`, healthy: true, ...overrides[name]}))

export const runner = (name: string, counters: Partial<RunnerReport['counters']> = {}, extra: Partial<RunnerReport> = {}): RunnerReport => ({
  name,
  state: 'ready',
  uptimeSeconds: 125,
  counters: {handled: 0, failed: 0, retried: 0, deadLettered: 0, httpRequests: 0, ...counters},
  ...extra,
})

export interface Numbers {
  /** order runner: handled, failed, dead-lettered (ERRORS = failed + deadLettered), HTTP requests. */
  orderHandled: number
  orderFailed: number
  orderDead: number
  orderHttp: number
  pulsesReady: number
  pulsesUnacked: number
  pulsesDlq: number
  stockDlq: number
  queryLag: number
  productLag: number
  write: {PENDING: number; RESERVED: number; PAID: number; CANCELED: number}
  read: {PENDING: number; RESERVED: number; PAID: number; CANCELED: number}
  pendingEvents: number
  lagSeconds: number
  pendingKeys: number
  lastFlushKeys: number
  topAmount: string
}

export const NUMBERS_A: Numbers = {
  orderHandled: 1234,
  orderFailed: 2,
  orderDead: 1,
  orderHttp: 1000,
  pulsesReady: 17,
  pulsesUnacked: 3,
  pulsesDlq: 4,
  stockDlq: 2,
  queryLag: 12,
  productLag: 0,
  write: {PENDING: 3, RESERVED: 5, PAID: 11, CANCELED: 2},
  read: {PENDING: 3, RESERVED: 5, PAID: 11, CANCELED: 2},
  pendingEvents: 0,
  lagSeconds: 0.4,
  pendingKeys: 42,
  lastFlushKeys: 40,
  topAmount: '1234.5678',
}

export const NUMBERS_B: Numbers = {
  ...NUMBERS_A,
  orderHandled: 5678,
  orderFailed: 7,
  orderDead: 2,
  orderHttp: 3000,
  pulsesReady: 91,
  pulsesUnacked: 8,
  pulsesDlq: 6,
  queryLag: 33,
  write: {PENDING: 4, RESERVED: 6, PAID: 19, CANCELED: 3},
  read: {PENDING: 4, RESERVED: 6, PAID: 19, CANCELED: 3},
  lagSeconds: 2.5,
  pendingKeys: 77,
  topAmount: '9876.5432',
}

/** The platform snapshot for a set of numbers; times relative to `now` (built when polled). */
export const snapshot = (n: Numbers, now = Date.now()): PlatformSnapshot => {
  const drift = (Object.keys(n.write) as (keyof Numbers['write'])[])
    .filter((s) => n.write[s] !== n.read[s])
    .map((status) => ({status, write: n.write[status], read: n.read[status]}))
  return {
    at: new Date(now).toISOString(),
    queues: {
      rabbitmq: {
        queues: [
          {name: 'customer.order-events', ready: 0, unacked: 0, consumers: 1, inPerSec: 1.5, outPerSec: 1.5, dlq: false},
          {name: 'customer.order-events.dlq', ready: 0, unacked: 0, consumers: 0, inPerSec: 0, outPerSec: 0, dlq: true},
          {name: 'pulses', ready: n.pulsesReady, unacked: n.pulsesUnacked, consumers: 2, inPerSec: 12.5, outPerSec: 11, dlq: false},
          {name: 'pulses.dlq', ready: n.pulsesDlq, unacked: 0, consumers: 0, inPerSec: 0, outPerSec: 0, dlq: true},
        ],
      },
      kafka: {
        lag: [
          {group: 'product', topic: 'order.created', lag: n.productLag, committed: 50, end: 50 + n.productLag},
          {group: 'order', topic: 'stock.reserved', lag: 0, committed: 20, end: 20},
          {group: 'query', topic: 'order.created', lag: n.queryLag - 2, committed: 40, end: 40 + n.queryLag - 2},
          {group: 'query', topic: 'stock.reserved', lag: 2, committed: 18, end: 20},
        ],
        dlqs: [
          {topic: 'order.created.dlq', messages: 0},
          {topic: 'stock.reserved.dlq', messages: n.stockDlq},
        ],
      },
    },
    projections: {
      read: {
        ordersByStatus: n.read,
        latestOrders: [
          {
            id: '0a1b2c3d-0000-4000-8000-000000000001',
            customer: {id: 'c1', name: 'Ada Lovelace', email: 'ada@example.com'},
            items: [{product_id: 'p1', sku: 'SKU-1', name: 'Widget', quantity: 2, unit_price_cents: 1250}],
            status: 'PAID',
            total_cents: 2500,
            created_at: new Date(now - 60_000).toISOString(),
            updated_at: new Date(now - 30_000).toISOString(),
            paid_at: new Date(now - 30_000).toISOString(),
            canceled_at: null,
            cancel_reason: null,
          },
        ],
        counts: {orders: Object.values(n.read).reduce((a, b) => a + b, 0), products: 8, customers: 6},
      },
      writeByStatus: n.write,
      lagSeconds: n.lagSeconds,
      drift: n.pendingEvents > 0 ? [] : drift,
      pendingEvents: n.pendingEvents,
    },
    aggregates: {
      pendingKeys: n.pendingKeys,
      pendingFlushes: 0,
      lastFlush: {at: new Date(now - 300_000).toISOString(), flushId: 'f-1', keys: n.lastFlushKeys, rows: 9, durationMs: 12},
      nextFlushAt: new Date(now + 25_000).toISOString(),
      top: [
        {tenant: 'acme', product_sku: 'SKU-1', use_unity: 'GB', amount: n.topAmount},
        {tenant: 'globex', product_sku: 'SKU-9', use_unity: 'req', amount: '12.5'},
      ],
    },
  }
}

/** A healthy platform with five runners and the snapshot of `n`. */
export const healthyStatus = (n: Numbers = NUMBERS_A, now = Date.now()): PlatformStatus => ({
  runtime: 'native',
  healthy: true,
  servers: servers(),
  supervisor: {running: true, pid: 4242, mode: 'detached', http: 'http://127.0.0.1:8080'},
  runners: [
    runner('order', {handled: n.orderHandled, failed: n.orderFailed, deadLettered: n.orderDead, httpRequests: n.orderHttp}),
    runner('product', {handled: 310}),
    runner('customer', {handled: 77}),
    runner('query', {handled: 905}),
    runner('ingest', {handled: 4096}),
  ],
  platform: snapshot(n, now),
})

/** `mm status` when nothing was ever started. */
export const noPlatform = (): PlatformStatus => ({runtime: 'none', healthy: false, servers: [], supervisor: {running: false}, runners: []})

export const feedEntry = (over: Partial<FeedEntry> = {}): FeedEntry => ({
  at: '2025-01-02T03:04:05.678Z',
  runner: 'order',
  type: 'order.created',
  id: 'evt-1',
  outcome: 'handled',
  ...over,
})

// ---------------------------------------------------------------------------------------------
// An in-memory DashSource

type Maybe<T> = T | Promise<T>

export interface FakeSourceOptions {
  /** The status of the n-th call (1-based); throw or reject to simulate a failed poll. */
  status?: (call: number) => Maybe<PlatformStatus>
  flush?: () => Maybe<string>
  replay?: (dlq: string) => Maybe<string>
  verify?: () => Maybe<Outcome>
  rebuild?: () => Maybe<Outcome>
  /** Whether subscribe reports the feed connected right away (default true). */
  connected?: boolean
  traces?: () => Maybe<RecentTraces>
  trace?: (traceId: string) => Maybe<TraceResult>
}

export interface FakeSource extends DashSource {
  statusCalls: number
  /** Polls running right now, and the most ever running at once. */
  inFlight: number
  maxInFlight: number
  /** [started, finished] of each status() call, by performance.now(). */
  spans: [number, number | undefined][]
  flushCalls: number
  replayCalls: string[]
  verifyCalls: number
  rebuildCalls: number
  subscribers: number
  traceCalls: string[]
  emit(entry: FeedEntry): void
  setFeedState(connected: boolean, error?: string): void
}

export const fakeSource = (opts: FakeSourceOptions = {}): FakeSource => {
  const listeners = new Set<{onEntry: (e: FeedEntry) => void; onState: (connected: boolean, error?: string) => void}>()
  const src: FakeSource = {
    statusCalls: 0,
    inFlight: 0,
    maxInFlight: 0,
    spans: [],
    flushCalls: 0,
    replayCalls: [],
    verifyCalls: 0,
    rebuildCalls: 0,
    subscribers: 0,
    traceCalls: [],
    async status() {
      const call = ++src.statusCalls
      src.inFlight++
      src.maxInFlight = Math.max(src.maxInFlight, src.inFlight)
      const span: [number, number | undefined] = [performance.now(), undefined]
      src.spans.push(span)
      try {
        return await (opts.status ?? (() => healthyStatus()))(call)
      } finally {
        src.inFlight--
        span[1] = performance.now()
      }
    },
    subscribe(onEntry, onState) {
      const l = {onEntry, onState}
      listeners.add(l)
      src.subscribers = listeners.size
      if (opts.connected ?? true) onState(true)
      return () => {
        listeners.delete(l)
        src.subscribers = listeners.size
      }
    },
    async flush() {
      src.flushCalls++
      return (opts.flush ?? (() => 'flushed 42 keys into 9 rows in 12ms'))()
    },
    async replay(dlq) {
      src.replayCalls.push(dlq)
      return (opts.replay ?? ((d: string) => `replayed 4 of ${d} (0 skipped by the loop guard)`))(dlq)
    },
    async verify() {
      src.verifyCalls++
      return (opts.verify ?? (() => ({text: 'verify: no differences in 1353 documents (1.2s)', ok: true})))()
    },
    async rebuild() {
      src.rebuildCalls++
      return (
        opts.rebuild ??
        (() => ({
          text: 'rebuilt orders_view, products_view, customers_view from 1353 documents in 2.3s (5 changed); verify: no differences in 1353 documents (1.1s)',
          ok: true,
        }))
      )()
    },
    async traces() {
      return (opts.traces ?? (() => recentTraces()))()
    },
    async trace(traceId) {
      src.traceCalls.push(traceId)
      return (opts.trace ?? ((id: string) => traceResult(id)))(traceId)
    },
    async close() {},
    emit(entry) {
      for (const l of listeners) l.onEntry(entry)
    },
    setFeedState(connected, error) {
      for (const l of listeners) l.onState(connected, error)
    },
  }
  return src
}

/** A promise with its resolve/reject exposed, to hold a call open until the test lets it go. */
export const deferred = <T>() => {
  let resolve!: (v: T) => void
  let reject!: (e: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return {promise, resolve, reject}
}

// ---------------------------------------------------------------------------------------------
// Frames

// eslint-disable-next-line no-control-regex
const ANSI = /\u001B\[[0-9;]*[A-Za-z]/g
export const plain = (frame: string | undefined): string => (frame ?? '').replace(ANSI, '')

export const KEYS = {
  tab: '\t',
  shiftTab: '\u001B[Z',
  up: '\u001B[A',
  down: '\u001B[B',
  right: '\u001B[C',
  left: '\u001B[D',
  ctrlC: '\u0003',
  enter: '\r',
  escape: '\u001B',
} as const

/** Generous: a loaded 2-core machine may take a while; a passing run returns as soon as it matches. */
export const DEADLINE_MS = 8000

/** One tick: lets pending effects (a re-registered useInput handler) and timers of 0-5ms run. */
export const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 5))

/**
 * Polls until `check` returns a value other than false/undefined, or fails at the deadline with
 * `describe()`. The deadline is on performance.now, so a test may stub Date.now.
 */
export const until = async <T>(check: () => T | false | undefined, describe: () => string, timeoutMs = DEADLINE_MS): Promise<T> => {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const v = check()
    if (v !== false && v !== undefined) return v
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms: ${describe()}`)
    await tick()
  }
}

interface Framed {
  lastFrame: () => string | undefined
  frames: string[]
}

/**
 * ink-testing-library's stdout is 100 columns; at that width the panels truncate their last
 * columns. Widen it to `columns` the way a terminal does: new size, then 'resize'.
 */
export const widen = <T extends {stdout: NodeJS.EventEmitter}>(inst: T, columns = 160): T => {
  Object.defineProperty(inst.stdout, 'columns', {get: () => columns, configurable: true})
  inst.stdout.emit('resize')
  return inst
}

/** Every frame written so far, ANSI stripped, oldest first. */
export const history = (inst: Framed): string[] => inst.frames.map(plain)

/** The newest frame (ANSI stripped) once it satisfies `match` (a string, every string of an array, a RegExp, or a predicate). */
export const frameMatching = (inst: Framed, match: string | string[] | RegExp | ((frame: string) => boolean), timeoutMs?: number): Promise<string> => {
  const test = (f: string) =>
    typeof match === 'string'
      ? f.includes(match)
      : Array.isArray(match)
        ? match.every((m) => f.includes(m))
        : match instanceof RegExp
          ? match.test(f)
          : match(f)
  return until(
    () => {
      const f = plain(inst.lastFrame())
      return test(f) ? f : undefined
    },
    () => `no frame matched ${String(match)}; last frame:\n${plain(inst.lastFrame())}`,
    timeoutMs,
  )
}

/**
 * The title of the focused panel: the one drawn with the bold border (┏ ┃). The title is the
 * first line inside the border. Fails if there is not exactly one bold panel.
 */
export const focusedTitles = (frame: string): string[] => {
  const lines = frame.split('\n')
  const titles: string[] = []
  lines.forEach((line, i) => {
    for (let col = line.indexOf('┏'); col !== -1; col = line.indexOf('┏', col + 1)) {
      const inner = lines[i + 1]?.slice(col + 1) ?? ''
      titles.push(inner.slice(0, inner.indexOf('┃') === -1 ? undefined : inner.indexOf('┃')).trim())
    }
  })
  return titles
}

export const focusedTitle = (frame: string): string | undefined => {
  const t = focusedTitles(frame)
  return t.length === 1 ? t[0] : undefined
}

/** What the Traces panel shows: two slow traces, and with `withFailure` one failed trace too. */
export const recentTraces = (withFailure = false): RecentTraces => {
  const t = (traceId: string, durationMs: number, failed: boolean, root: string): TraceSummary => ({
    traceId,
    startedAt: '2025-01-02T03:04:05.000Z',
    durationMs,
    spans: 12,
    failed,
    aggregateId: `order-${traceId.slice(0, 4)}`,
    root,
    components: ['order', 'product', 'query'],
  })
  const failed = t('f'.repeat(32), 80, true, 'POST /orders/:id/pay')
  const slow = [t('a'.repeat(32), 1450, false, 'POST /orders'), t('b'.repeat(32), 320, false, 'POST /orders')]
  return withFailure ? {failed: [failed], slowest: [slow[0]!, failed, slow[1]!], stored: true} : {failed: [], slowest: slow, stored: true}
}

/** The waterfall the dashboard opens: an order's creation through Kafka to product and query. */
export const traceResult = (traceId: string): TraceResult => {
  const span = (
    spanId: string,
    parentId: string | null,
    depth: number,
    component: string,
    name: string,
    kind: WaterfallSpan['kind'],
    startMs: number,
    durationMs: number,
    wait?: [number, 'outbox' | 'broker'],
  ): WaterfallSpan => ({
    spanId,
    parentId,
    depth,
    component,
    name,
    kind,
    startMs,
    durationMs,
    hop: true,
    error: null,
    waitMs: wait?.[0] ?? null,
    waitIn: wait?.[1] ?? null,
    aggregateId: 'order-aaaa',
    attributes: {},
    links: null,
  })
  return {
    query: traceId,
    aggregateId: 'order-aaaa',
    traces: [
      {
        traceId,
        startedAt: '2025-01-02T03:04:05.000Z',
        durationMs: 1450,
        failed: false,
        firstError: null,
        components: ['order', 'product'],
        spans: [
          span('1', null, 0, 'order', 'POST /orders', 'server', 0, 30),
          span('2', '1', 1, 'order', 'publish order.created', 'producer', 900, 20, [870, 'outbox']),
          span('3', '2', 2, 'product', 'process order.created', 'consumer', 1000, 450, [80, 'broker']),
        ],
      },
    ],
    waiting: [],
  }
}
