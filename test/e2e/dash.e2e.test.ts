import {execFileSync, spawn} from 'node:child_process'
import {chmodSync, mkdtempSync} from 'node:fs'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {BIN, json, mm} from './cli.js'

const cwd = mkdtempSync('/tmp/mm-e2e-dash-')
chmodSync(cwd, 0o755)
const session = `mm-dash-${process.pid}`

const tmux = (...args: string[]): string => execFileSync('tmux', args, {encoding: 'utf8'})
const screen = (): string => tmux('capture-pane', '-t', session, '-p')
const waitScreen = async (what: string, ok: (text: string) => boolean, timeoutMs = 30_000): Promise<string> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const last = screen()
    if (ok(last)) return last
    if (Date.now() > deadline) throw new Error(`${what}: not on screen within ${timeoutMs}ms. Screen:\n${last}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}
/** The number in a row of the Services panel: `query ready 1m02s 1200 0 0.0` → handled. */
const handled = (text: string, runner: string): number | undefined => {
  const m = new RegExp(`┃ ${runner}\\s+ready\\s+\\S+\\s+(\\d+)|│ ${runner}\\s+ready\\s+\\S+\\s+(\\d+)`).exec(text)
  return m ? Number(m[1] ?? m[2]) : undefined
}

/** `mm dash` as a person sees it: a real 160x48 terminal in tmux, under load. */
describe('mm dash', () => {
  beforeAll(async () => {
    const r = await mm(['up', '--infra', 'native', '-d', '--http-port', '0'], {cwd})
    expect(r.exitCode, r.stderr).toBe(0)
    expect((await mm(['seed', '--customers', '5', '--products', '10'], {cwd})).exitCode).toBe(0)
  })
  afterAll(async () => {
    try {
      tmux('kill-session', '-t', session)
    } catch {
      /* already gone */
    }
    await mm(['down', '-v'], {cwd})
  })

  it('without a terminal prints one snapshot and exits; --json is the JSON of mm status plus traces and trends', async () => {
    const text = await mm(['dash'], {cwd})
    expect(text.exitCode, text.stderr).toBe(0)
    expect(text.stdout).toContain('platform healthy')
    const dash = json<Record<string, unknown>>(await mm(['dash', '--json'], {cwd}))
    const status = json<Record<string, unknown>>(await mm(['status', '--json'], {cwd}))
    expect(Object.keys(dash).sort()).toEqual([...Object.keys(status), 'traces', 'trends'].sort())
    expect(dash).toHaveProperty('platform.queues.kafka.lag')
    expect(dash).toHaveProperty('traces.slowest')
    expect(dash).toHaveProperty('trends.measures.eventsPerSec.series')
  })

  it('in a 160x48 terminal under load: every panel shows live numbers, f flushes, q quits', async () => {
    tmux(
      'new-session',
      '-d',
      '-s',
      session,
      '-x',
      '160',
      '-y',
      '48',
      `cd ${cwd} && env -u CI NO_COLOR=1 ${process.execPath} ${BIN} dash --interval 500ms; echo DASH-EXITED-$?; sleep 60`,
    )
    const first = await waitScreen(
      'all panels',
      (t) => ['Services', 'Queues', 'Projections', 'Redis aggregates', 'Live events'].every((p) => t.includes(p)) && handled(t, 'query') !== undefined,
    )
    const before = handled(first, 'query')!

    const load = spawn(process.execPath, [BIN, 'load', 'orders', '--rate', '10', '--duration', '6s'], {cwd, env: {...process.env, CI: 'true'}, stdio: 'ignore'})
    const pulses = spawn(process.execPath, [BIN, 'load', 'pulses', '--total', '300', '--rate', '100'], {
      cwd,
      env: {...process.env, CI: 'true'},
      stdio: 'ignore',
    })
    await waitScreen('query handled count rising', (t) => (handled(t, 'query') ?? 0) > before)
    await waitScreen('events in the live feed', (t) => /✓ (order|query|product|ingest)\s/.test(t))
    await waitScreen('pending Redis aggregates', (t) => /pending keys [1-9]/.test(t))
    await Promise.all([new Promise((r) => load.on('exit', r)), new Promise((r) => pulses.on('exit', r))])

    tmux('send-keys', '-t', session, 'f')
    await waitScreen('flush result', (t) => /flushed \d+ keys into \d+ rows/.test(t))

    // Once quiet, the panel and mm status --json agree.
    const status = json<{platform: {projections: {writeByStatus: Record<string, number>; pendingEvents?: number}}}>(await mm(['status', '--json'], {cwd}))
    const paid = status.platform.projections.writeByStatus.PAID
    await waitScreen('PAID count of mm status --json', (t) => new RegExp(`write\\s+\\d+\\s+\\d+\\s+${paid}\\s`).test(t))

    tmux('send-keys', '-t', session, 'q')
    await waitScreen('dash exited with 0', (t) => t.includes('DASH-EXITED-0'))
  })
})
