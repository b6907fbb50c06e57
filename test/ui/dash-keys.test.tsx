/**
 * `mm dash` keys, against an in-memory DashSource (test/ui/fixtures.ts): focus moves, flush,
 * DLQ selection and replay with y/N, help, quit; and without interactivity keys are ignored and
 * nothing asks for raw mode. Keys are written only once the handler is attached (data on screen);
 * after each key the test waits for the frame that shows its effect. The handler is stable (it
 * reads the key state from a ref, src/ui/dash/keys.ts), so a key never meets an older frame's one.
 */
import {EventEmitter} from 'node:events'
import {PassThrough} from 'node:stream'

import {render as inkRender} from 'ink'
import {cleanup, render} from 'ink-testing-library'
import {afterEach, describe, expect, it, vi} from 'vitest'

import {Dashboard} from '../../src/ui/dash/dashboard.js'
import {
  deferred,
  fakeSource,
  feedEntry,
  recentTraces,
  type FakeSource,
  type FakeSourceOptions,
  focusedTitle,
  frameMatching,
  KEYS,
  plain,
  tick,
  until,
  widen,
} from './fixtures.js'

// Each wait has its own deadline (fixtures.DEADLINE_MS); a test presses many keys on a loaded machine.
vi.setConfig({testTimeout: 30_000})

afterEach(() => {
  cleanup()
  vi.restoreAllMocks()
})

/** The dashboard at 160 columns; a slow refresh by default, so frames change only when a key does. */
const start = async (options: FakeSourceOptions = {}, interactive = true, intervalMs = 1000) => {
  const source = fakeSource(options)
  const onQuit = vi.fn()
  const element = <Dashboard source={source} intervalMs={intervalMs} interactive={interactive} onQuit={onQuit} />
  const inst = widen(render(element))
  await frameMatching(inst, 'pending keys 42')
  await tick()
  return {source, onQuit, inst, settle: () => inst.rerender(element)}
}

type Inst = Awaited<ReturnType<typeof start>>['inst']

/** Writes one key and waits for a frame that shows its effect. */
const press = async (inst: Inst, key: string, expected: string | string[] | RegExp | ((frame: string) => boolean)): Promise<string> => {
  inst.stdin.write(key)
  return frameMatching(inst, expected)
}

const focusOn = (title: string | ((t: string) => boolean)) => (frame: string) =>
  typeof title === 'string' ? focusedTitle(frame) === title : title(focusedTitle(frame) ?? '')

const SERVICES = 'Services (native)'
const QUEUES = 'Queues'
const PROJECTIONS = 'Projections (MongoDB read model)'
const AGGREGATES = 'Redis aggregates (ingest)'
const FEED = 'Live events'
const TRACES = 'Traces (last 5 min: failed, then slowest)'
const TRENDS = (title: string) => title.startsWith('Trends (last')

/** Waits until the dashboard has unmounted (its feed unsubscribed). */
const exited = (source: FakeSource) =>
  until(
    () => source.subscribers === 0,
    () => 'the dashboard did not exit',
  )

describe('Dashboard keys', () => {
  it('starts with Services focused: one panel has the bold border', async () => {
    const {inst} = await start()
    const f = plain(inst.lastFrame())
    expect(focusedTitle(f)).toBe(SERVICES)
    expect(f.match(/┏/g)).toHaveLength(1)
    expect(f).toContain('╭') // the others are round
  })

  it('moves focus with tab, shift-tab and the arrows', async () => {
    const {inst} = await start()
    for (const title of [QUEUES, PROJECTIONS, AGGREGATES, TRACES, TRENDS, FEED, SERVICES]) await press(inst, KEYS.tab, focusOn(title))
    await press(inst, KEYS.shiftTab, focusOn(FEED))
    await press(inst, KEYS.shiftTab, focusOn(TRENDS))
    await press(inst, KEYS.left, focusOn(TRACES))
    await press(inst, KEYS.right, focusOn(TRENDS))
    await press(inst, KEYS.right, focusOn(FEED))
    await press(inst, KEYS.right, focusOn(SERVICES))
    await press(inst, KEYS.left, focusOn(FEED))
    // ↑↓ move between rows: Services/Queues, Projections/Aggregates, Traces/Trends, Live events.
    // (In Queues and Traces ↑↓ choose a row instead: the test leaves those panels sideways.)
    await press(inst, KEYS.up, focusOn(TRACES))
    await press(inst, KEYS.left, focusOn(AGGREGATES))
    await press(inst, KEYS.up, focusOn(QUEUES))
    await press(inst, KEYS.left, focusOn(SERVICES))
    await press(inst, KEYS.down, focusOn(PROJECTIONS))
    await press(inst, KEYS.down, focusOn(TRACES))
    await press(inst, KEYS.right, focusOn(TRENDS))
    await press(inst, KEYS.down, focusOn(FEED))
  })

  it('Traces: failed first, then the slowest; ↑↓ choose, Enter opens the waterfall, any key closes it', async () => {
    const {inst, source} = await start({traces: () => recentTraces(true)})
    const f = await frameMatching(inst, '1.45 s')
    const rows = f.split('\n').filter((l) => /POST \/orders/.test(l))
    expect(rows[0]).toMatch(/✗ 80\.0 ms.*POST \/orders\/:id\/pay/)
    expect(rows[1]).toMatch(/1\.45 s.*POST \/orders /)
    await press(inst, KEYS.down, focusOn(PROJECTIONS))
    await press(inst, KEYS.down, focusOn(TRACES))
    await press(inst, KEYS.down, (fr) => fr.includes('Enter waterfall'))
    const waterfall = await press(inst, KEYS.enter, 'process order.created')
    expect(source.traceCalls).toEqual(['a'.repeat(32)])
    expect(waterfall).toMatch(/publish order\.created .* 870\.0 ms in outbox/)
    expect(waterfall).toMatch(/process order\.created .* 80\.0 ms in broker/)
    await press(inst, 'x', focusOn(TRACES))
  })
  it('/ filters the live events; a burst faster than anyone reads is grouped with its count', async () => {
    const {inst, source, settle} = await start()
    await press(inst, '/', '/ ')
    for (const ch of 'stock') inst.stdin.write(ch)
    await frameMatching(inst, '/ stock')
    await press(inst, KEYS.enter, 'filter "stock"')
    settle() // the feed's filter is set in an effect after the frame that shows it: rerendering runs it before events come
    source.emit(feedEntry({runner: 'order', type: 'stock.reserved', id: 'keep-me'}))
    source.emit(feedEntry({runner: 'query', type: 'order.created', id: 'drop-me'}))
    const f = await frameMatching(inst, 'keep-me')
    expect(f).not.toContain('drop-me')
    await press(inst, KEYS.escape, (fr) => !fr.includes('filter "stock"'))
    settle() // likewise for the cleared filter
    for (let i = 0; i < 40; i++) source.emit(feedEntry({runner: 'ingest', type: 'pulse', id: `p-${i}`}))
    const grouped = await frameMatching(inst, '×40 (newest p-39)')
    expect(grouped).not.toContain('p-0 ')
  })

  it('f runs a flush, shows it running, ignores keys meanwhile, then shows its message', async () => {
    const held = deferred<string>()
    const {inst, source} = await start({flush: () => held.promise})
    await press(inst, 'f', 'flush…')
    inst.stdin.write('f') // busy: ignored
    await tick()
    expect(source.flushCalls).toBe(1)
    held.resolve('flushed 42 keys into 9 rows in 12ms')
    const f = await frameMatching(inst, 'flushed 42 keys into 9 rows in 12ms')
    expect(f).not.toContain('flush…')
    expect(source.flushCalls).toBe(1)
  })

  it('f shows why a flush failed', async () => {
    const {inst, source} = await start({flush: () => Promise.reject(new Error('ingest.pulses: relation does not exist'))})
    await press(inst, 'f', 'flush failed: ingest.pulses: relation does not exist')
    expect(source.flushCalls).toBe(1)
  })

  it('r outside the Queues panel shows a hint and replays nothing', async () => {
    const {inst, source} = await start()
    const f = await press(inst, 'r', 'select a DLQ in the Queues panel first (tab to it, ↑↓ to choose)')
    expect(f).not.toContain('[y/N]')
    expect(source.replayCalls).toEqual([])
  })

  it('in Queues, ↑↓ select a DLQ; r asks y/N; n cancels; y replays the selected DLQ and shows the result', async () => {
    const {inst, source, onQuit} = await start()
    // Focused, the panel shows the selected DLQ even when it is empty (the first: customer.order-events.dlq).
    let f = await press(inst, KEYS.tab, focusOn(QUEUES))
    expect(f).toContain('(↑↓ select, r replay)')
    expect(f).toContain('› customer.order-events.dlq (rabbitmq) 0')
    f = await press(inst, KEYS.down, '› pulses.dlq (rabbitmq) 4')
    expect(focusedTitle(f)).toBe(QUEUES) // ↓ selected, focus stayed

    await press(inst, 'r', 'Replay 4 message(s) of pulses.dlq to their original destination? [y/N]')
    await press(inst, 'n', (x) => !x.includes('[y/N]'))
    expect(source.replayCalls).toEqual([])
    // Any key but y cancels, q included (it does not quit while asking).
    await press(inst, 'r', '[y/N]')
    await press(inst, 'q', (x) => !x.includes('[y/N]'))
    expect(onQuit).not.toHaveBeenCalled()
    expect(source.replayCalls).toEqual([])

    await press(inst, 'r', 'of pulses.dlq to their original destination? [y/N]')
    f = await press(inst, 'y', 'replayed 4 of pulses.dlq (0 skipped by the loop guard)')
    expect(f).not.toContain('[y/N]')
    expect(source.replayCalls).toEqual(['pulses.dlq'])

    // ↑ wraps around to the last DLQ, a Kafka one.
    await press(inst, KEYS.up, '› customer.order-events.dlq (rabbitmq) 0')
    await press(inst, KEYS.up, '› stock.reserved.dlq (kafka) 2')
    await press(inst, 'r', 'Replay 2 message(s) of stock.reserved.dlq to their original destination? [y/N]')
    await press(inst, 'Y', 'replayed 4 of stock.reserved.dlq')
    expect(source.replayCalls).toEqual(['pulses.dlq', 'stock.reserved.dlq'])
  })

  it('shows why a replay failed', async () => {
    const {inst, source} = await start({replay: () => Promise.reject(new Error('channel closed'))})
    await press(inst, KEYS.tab, focusOn(QUEUES))
    await press(inst, KEYS.down, '› pulses.dlq')
    await press(inst, 'r', '[y/N]')
    await press(inst, 'y', 'replay pulses.dlq failed: channel closed')
    expect(source.replayCalls).toEqual(['pulses.dlq'])
  })

  it('? shows the help instead of the panels; any key closes it, q included', async () => {
    const {inst, onQuit} = await start()
    let f = await press(inst, '?', 'move between panels')
    expect(f).toContain('Keys')
    expect(f).toContain('replay the selected DLQ (asks y/N first)')
    expect(f).not.toContain('RUNNER')
    f = await press(inst, 'x', 'RUNNER')
    expect(f).not.toContain('move between panels')
    await press(inst, '?', 'move between panels')
    await press(inst, 'q', 'RUNNER')
    expect(onQuit).not.toHaveBeenCalled()
  })

  it('q calls onQuit and exits', async () => {
    const {inst, source, onQuit} = await start()
    inst.stdin.write('q')
    await exited(source)
    expect(onQuit).toHaveBeenCalledTimes(1)
  })

  it.each<[string, (inst: Inst) => Promise<unknown>]>([
    ['in the normal view', async () => {}],
    ['with the help open', (inst) => press(inst, '?', 'move between panels')],
    [
      'while asking y/N',
      async (inst) => {
        await press(inst, KEYS.tab, focusOn(QUEUES))
        await press(inst, 'r', '[y/N]')
      },
    ],
    ['while a flush runs', (inst) => press(inst, 'f', 'flush…')],
  ])('Ctrl+C calls onQuit and exits %s', async (_, before) => {
    const {inst, source, onQuit} = await start({flush: () => new Promise<string>(() => {})})
    await before(inst)
    inst.stdin.write(KEYS.ctrlC)
    await exited(source)
    expect(onQuit).toHaveBeenCalledTimes(1)
  })
})

describe('Dashboard without interactivity', () => {
  it('ignores keys: no raw-mode listener, nothing runs, nothing moves', async () => {
    const {inst, source, onQuit} = await start({}, false, 50)
    expect(inst.stdin.listenerCount('readable')).toBe(0)
    for (const key of ['q', KEYS.ctrlC, KEYS.tab, KEYS.right, '?', 'f', 'r']) inst.stdin.write(key)
    // Two more polls rendered after the keys: had any been handled, it would show by now.
    const after = source.statusCalls
    const f = await frameMatching(inst, () => source.statusCalls >= after + 2)
    expect(onQuit).not.toHaveBeenCalled()
    expect(source.flushCalls).toBe(0)
    expect(focusedTitle(f)).toBe(SERVICES)
    expect(f).not.toContain('move between panels')
    expect(f).not.toContain('select a DLQ')
    expect(source.subscribers).toBe(1) // still running
  })

  /** Ink on a stdin that is not a TTY (no setRawMode), as when mm dash runs piped or in CI. */
  const renderWithoutRawMode = (interactive: boolean) => {
    const frames: string[] = []
    const stdout = Object.assign(new EventEmitter(), {columns: 160, rows: 48, isTTY: false, write: (s: string) => frames.push(s)})
    const stderr = Object.assign(new EventEmitter(), {write: () => true})
    const stdin = new PassThrough() // isTTY undefined: raw mode not supported
    const source = fakeSource()
    const app = inkRender(<Dashboard source={source} intervalMs={50} interactive={interactive} onQuit={() => {}} />, {
      stdout: stdout as unknown as NodeJS.WriteStream,
      stderr: stderr as unknown as NodeJS.WriteStream,
      stdin: stdin as unknown as NodeJS.ReadStream,
      debug: true,
      exitOnCtrlC: false,
      patchConsole: false,
    })
    return {app, source, frames: {frames, lastFrame: () => frames.at(-1)}}
  }

  it('renders and keeps polling on a stdin without raw mode', async () => {
    const {app, source, frames} = renderWithoutRawMode(false)
    let failed: unknown
    app.waitUntilExit().catch((error: unknown) => (failed = error))
    const f = await frameMatching(frames, 'pending keys 42')
    expect(f).toMatch(/order\s+ready\s+2m05s\s+1234\s+3/)
    const seen = source.statusCalls
    await until(
      () => source.statusCalls >= seen + 2,
      () => `polling stopped at ${source.statusCalls}`,
    )
    expect(failed).toBeUndefined()
    app.unmount()
    await expect(app.waitUntilExit()).resolves.toBeUndefined()
  })

  it('(control) interactive on that stdin would fail: raw mode is not supported', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {}) // React reports the caught error
    const {app} = renderWithoutRawMode(true)
    await expect(app.waitUntilExit()).rejects.toThrow(/Raw mode is not supported/)
  })
})
