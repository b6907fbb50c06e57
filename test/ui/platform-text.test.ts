import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'

import type {DoctorResult} from '../../src/operations/doctor.js'
import type {PlatformStatus} from '../../src/operations/status.js'
import {endpointRows, type UpResult} from '../../src/operations/up.js'
import type {Endpoints, ServerStatus} from '../../src/infra/types.js'
import {maskUrl} from '../../src/lib/urls.js'
import {renderDoctor, renderDown, renderStatus, renderUp} from '../../src/ui/text/platform.js'
import {terminal} from '../../src/ui/terminal.js'

const SECRET = 'pg-s3cret-pw'
// eslint-disable-next-line no-control-regex
const ANSI = /\u001B\[/

// terminal() caches its answer on first use: set NO_COLOR before anything renders.
beforeAll(() => {
  vi.stubEnv('NO_COLOR', '1')
})

afterAll(() => {
  vi.unstubAllEnvs()
})

const endpoints: Endpoints = {
  postgres: `postgres://mm:${SECRET}@127.0.0.1:55432/mercadomio`,
  redis: 'redis://127.0.0.1:56379',
  rabbitmq: `amqp://mm:${SECRET}@127.0.0.1:55672`,
  rabbitmqManagement: `http://mm:${SECRET}@127.0.0.1:15672`,
  kafka: ['127.0.0.1:59092'],
  mongo: `mongodb://mm:${SECRET}@127.0.0.1:57017/mm`,
}

/** Servers as the runtimes report them: URLs already masked. */
const servers = (overrides: Partial<Record<ServerStatus['name'], Partial<ServerStatus>>> = {}): ServerStatus[] =>
  (
    [
      {name: 'postgres', runtime: 'native', url: maskUrl(endpoints.postgres), healthy: true, version: '16.4'},
      {name: 'redis', runtime: 'native', url: maskUrl(endpoints.redis), healthy: true, version: '7.2.4'},
      {name: 'rabbitmq', runtime: 'native', url: maskUrl(endpoints.rabbitmq), healthy: true, version: '3.12.1'},
      {name: 'kafka', runtime: 'native', url: endpoints.kafka.join(','), healthy: true, version: '3.7.0'},
      {name: 'mongo', runtime: 'native', url: maskUrl(endpoints.mongo), healthy: true, version: '6.0.0', implementation: 'mongo-java-server'},
    ] satisfies ServerStatus[]
  ).map((s) => ({...s, ...overrides[s.name]}))

const healthy = (): PlatformStatus => ({
  runtime: 'native',
  healthy: true,
  servers: servers(),
  supervisor: {running: true, pid: 4321, mode: 'detached', http: 'http://127.0.0.1:8080'},
  runners: [
    {name: 'ingest', state: 'ready', uptimeSeconds: 90, counters: {handled: 12, failed: 1, retried: 0, deadLettered: 2, httpRequests: 7}},
    {name: 'topology', state: 'ready', counters: {handled: 0, failed: 0, retried: 0, deadLettered: 0, httpRequests: 0}},
  ],
})

const rowOf = (text: string, first: string): string => {
  const row = text.split('\n').find((l) => l.startsWith(first + ' '))
  expect(row, `no row starting with ${first}`).toBeDefined()
  return row!
}

describe('terminal under test', () => {
  it('has colors off (NO_COLOR set, stdout not a TTY)', () => {
    expect(terminal().color).toBe(false)
  })
})

describe('renderStatus', () => {
  it("says the platform is not running for runtime 'none'", () => {
    const text = renderStatus({runtime: 'none', healthy: false, servers: [], supervisor: {running: false}, runners: []})
    expect(text).toBe('The platform is not running (start it with: mm up)')
  })

  it('lists every server with its health, version and masked URL for a healthy platform', () => {
    const text = renderStatus(healthy())
    expect(text).not.toMatch(ANSI)
    expect(text.split('\n')[0]).toMatch(/^SERVER\s+RUNTIME\s+HEALTH\s+VERSION\s+URL$/)
    for (const name of ['postgres', 'redis', 'rabbitmq', 'kafka', 'mongo']) expect(rowOf(text, name)).toMatch(/✓ healthy/)
    expect(rowOf(text, 'postgres')).toContain('postgres://mm:***@127.0.0.1:55432/mercadomio')
    expect(rowOf(text, 'postgres')).toContain('16.4')
    expect(rowOf(text, 'mongo')).toContain('6.0.0 (mongo-java-server)')
    expect(rowOf(text, 'kafka')).toContain('127.0.0.1:59092')
    expect(text).toContain('✓ supervisor pid 4321 (detached), gateway http://127.0.0.1:8080')
    expect(text.trimEnd().split('\n').at(-1)).toBe('platform healthy')
    expect(text).not.toContain('unhealthy')
  })

  it('never shows a password', () => {
    const text = renderStatus(healthy())
    expect(text).not.toContain(SECRET)
    expect(text.match(/:\*\*\*@/g)).toHaveLength(3)
  })

  it('shows the runners with uptime and counters', () => {
    const text = renderStatus(healthy())
    expect(text).toMatch(/RUNNER\s+STATE\s+UPTIME\s+HANDLED\s+FAILED\s+DLQ\s+HTTP/)
    expect(rowOf(text, 'ingest').split(/\s+/)).toEqual(['ingest', 'ready', '1m30s', '12', '1', '2', '7'])
    expect(rowOf(text, 'topology').split(/\s+/)).toEqual(['topology', 'ready', '-', '0', '0', '0', '0'])
  })

  it('lists the runners that were not started, and why', () => {
    const text = renderStatus({
      ...healthy(),
      notStarted: [
        {name: 'order', reason: 'not selected by mm up ingest topology'},
        {name: 'query', reason: 'excluded by mm up --exclude query'},
      ],
    })
    expect(rowOf(text, 'order')).toMatch(/^order\s+not started: not selected by mm up ingest topology$/)
    expect(rowOf(text, 'query')).toMatch(/^query\s+not started: excluded by mm up --exclude query$/)
    expect(text.trimEnd().split('\n').at(-1)).toBe('platform healthy')
  })

  it('aligns the columns of the server table', () => {
    const lines = renderStatus(healthy()).split('\n').slice(0, 6)
    const urlColumn = lines[0]!.indexOf('URL')
    for (const line of lines.slice(1)) expect(line.slice(urlColumn)).toMatch(/^(postgres|redis|amqp|mongodb|127)/)
  })

  it('marks an unhealthy platform: failing servers with their error, stopped runners, "platform unhealthy"', () => {
    const status: PlatformStatus = {
      runtime: 'compose',
      healthy: false,
      servers: servers({kafka: {healthy: false, error: 'connection refused', version: undefined}, redis: {healthy: false}}),
      supervisor: {running: false, error: 'supervisor 4321 is not running'},
      runners: [],
    }
    const text = renderStatus(status)
    expect(text).not.toMatch(ANSI)
    expect(rowOf(text, 'kafka')).toMatch(/✗ connection refused/)
    expect(rowOf(text, 'kafka')).toMatch(/\s-\s/) // no version
    expect(rowOf(text, 'redis')).toMatch(/✗ unhealthy/)
    expect(rowOf(text, 'postgres')).toMatch(/✓ healthy/)
    expect(text).toContain('✗ runners not running (supervisor 4321 is not running): start them with mm up')
    expect(text).not.toContain('RUNNER')
    expect(text.trimEnd().split('\n').at(-1)).toBe('platform unhealthy')
    expect(text).not.toContain('platform healthy')
    expect(text).not.toContain(SECRET)
  })

  it('shows a gateway error next to a running supervisor', () => {
    const status = {...healthy(), healthy: false, supervisor: {...healthy().supervisor, error: 'gateway not answering'}}
    expect(renderStatus(status)).toContain('✗ supervisor pid 4321 (detached), gateway http://127.0.0.1:8080 — gateway not answering')
  })

  it('adds a DATA column with where each server keeps its data, when the runtime reports it', () => {
    const dataDir = (name: string) => (name === 'postgres' ? '/var/lib/mm/0123abcd/postgres' : `/root/mm/.mm/data/${name}`)
    const text = renderStatus({...healthy(), servers: healthy().servers.map((x) => ({...x, dataDir: dataDir(x.name)}))})
    expect(text.split('\n')[0]).toMatch(/^SERVER\s+RUNTIME\s+HEALTH\s+VERSION\s+URL\s+DATA$/)
    expect(rowOf(text, 'postgres').trimEnd().endsWith(' /var/lib/mm/0123abcd/postgres')).toBe(true)
    expect(rowOf(text, 'redis').trimEnd().endsWith(' /root/mm/.mm/data/redis')).toBe(true)
  })

  it('shows "-" for a server that has no URL', () => {
    const text = renderStatus({...healthy(), servers: servers({redis: {url: '', healthy: false, error: 'not started'}})})
    expect(rowOf(text, 'redis').trimEnd().endsWith(' -')).toBe(true)
  })
})

describe('renderDoctor', () => {
  const result: DoctorResult = {
    ok: false,
    checks: [
      {check: 'node', status: 'ok', detail: 'v20.19.0'},
      {check: 'java', status: 'fail', detail: 'java not found', fix: 'run mm infra install'},
      {check: 'docker', status: 'warn', detail: 'no Docker engine answers', fix: 'start Docker or use --infra native'},
    ],
  }

  it('shows one line per check with its icon, and the fix under it', () => {
    const lines = renderDoctor(result).split('\n')
    expect(lines[0]).toMatch(/^✓ node\s+v20\.19\.0$/)
    expect(lines[1]).toMatch(/^✗ java\s+java not found$/)
    expect(lines[2]).toMatch(/^\s+fix: run mm infra install$/)
    expect(lines[3]).toMatch(/^! docker\s+no Docker engine answers$/)
    expect(lines[4]).toMatch(/^\s+fix: start Docker or use --infra native$/)
  })

  it('has no fix line for a check without a fix', () => {
    const text = renderDoctor(result)
    expect(text.match(/fix:/g)).toHaveLength(2)
  })

  it('ends with the verdict', () => {
    expect(renderDoctor(result).split('\n').at(-1)).toBe('problems found: fix the ✗ lines above')
    expect(
      renderDoctor({ok: true, checks: [{check: 'node', status: 'ok', detail: 'v20'}]})
        .split('\n')
        .at(-1),
    ).toBe('ready for mm up')
  })

  it('aligns the details in one column', () => {
    const lines = renderDoctor(result).split('\n')
    expect(lines[0]!.indexOf('v20')).toBe(lines[1]!.indexOf('java not found'))
    expect(lines[1]!.indexOf('java not found')).toBe(lines[3]!.indexOf('no Docker'))
  })
})

describe('renderUp', () => {
  const up = (over: Partial<UpResult>): UpResult => ({
    alreadyUp: false,
    runtime: 'native',
    durationMs: 42_000,
    started: ['postgres', 'redis'],
    endpoints: endpointRows(endpoints, 'http://127.0.0.1:8080'),
    runners: ['customer', 'product', 'order', 'query', 'ingest'],
    notStarted: [],
    ...over,
  })

  it('for a platform already up, says so and shows its status', () => {
    const text = renderUp(up({alreadyUp: true, status: healthy()}))
    expect(text.startsWith('Already up (native).\n\n')).toBe(true)
    expect(text).toContain(renderStatus(healthy()))
    expect(text).not.toContain('platform up (')
  })

  it('for a platform already up without status, shows the endpoints, masked', () => {
    const text = renderUp(up({alreadyUp: true}))
    expect(text.startsWith('Already up (native).\n\n')).toBe(true)
    expect(text).toMatch(/ENDPOINT\s+URL/)
    expect(rowOf(text, 'gateway')).toContain('http://127.0.0.1:8080')
    expect(rowOf(text, 'postgres')).toContain('postgres://mm:***@127.0.0.1:55432/mercadomio')
    expect(text).not.toContain(SECRET)
  })

  it('after a start, shows masked endpoints, the duration and what was started', () => {
    const text = renderUp(up({}))
    expect(text).not.toContain(SECRET)
    expect(rowOf(text, 'rabbitmq-ui')).toContain('http://mm:***@127.0.0.1:15672')
    expect(rowOf(text, 'kafka')).toContain('127.0.0.1:59092')
    expect(text.split('\n').at(-1)).toBe('✓ platform up (native) in 42s: started postgres, redis')
  })

  it('says the infrastructure was already running when nothing was started', () => {
    expect(
      renderUp(up({started: [], durationMs: 1500}))
        .split('\n')
        .at(-1),
    ).toBe('✓ platform up (native) in 1.5s: infrastructure already running')
  })

  it('names the runners a selection left out, and why', () => {
    const text = renderUp(
      up({
        runners: ['customer', 'product'],
        notStarted: [
          {name: 'order', reason: 'not selected by mm up customer product'},
          {name: 'ingest', reason: 'excluded by mm up --exclude ingest'},
        ],
      }),
    )
    expect(text.split('\n').at(-1)).toBe(
      '  runners customer, product; not started: order (not selected by mm up customer product), ingest (excluded by mm up --exclude ingest)',
    )
  })

  it('already up with other runners than asked for: says which run and how to change them', () => {
    const text = renderUp(up({alreadyUp: true, status: healthy(), runners: ['ingest'], note: 'runners already running: ingest; they were not restarted'}))
    expect(text.startsWith('Already up (native).\n! runners already running: ingest; they were not restarted\n\n')).toBe(true)
  })
})

describe('renderDown', () => {
  it('says nothing was running', () => {
    expect(renderDown({runtime: 'none', stoppedSupervisor: false, removedData: false, dataDir: '/x/.mm', outside: []})).toBe('Nothing was running.')
  })

  it('says where the data is kept or that it was removed', () => {
    expect(renderDown({runtime: 'native', stoppedSupervisor: true, removedData: false, dataDir: '/x/.mm', outside: []})).toBe(
      '✓ platform stopped; data kept in /x/.mm (mm down -v removes it)',
    )
    expect(renderDown({runtime: 'native', stoppedSupervisor: true, removedData: true, dataDir: '/x/.mm', outside: []})).toBe(
      '✓ platform stopped; data removed (/x/.mm)',
    )
  })

  it('names the data kept outside the data dir too', () => {
    const outside = ['/var/lib/mm/0123abcd/postgres']
    expect(renderDown({runtime: 'native', stoppedSupervisor: true, removedData: false, dataDir: '/root/mm/.mm', outside})).toBe(
      '✓ platform stopped; data kept in /root/mm/.mm, /var/lib/mm/0123abcd/postgres (mm down -v removes it)',
    )
    expect(renderDown({runtime: 'native', stoppedSupervisor: false, removedData: true, dataDir: '/root/mm/.mm', outside})).toBe(
      '✓ platform stopped; data removed (/root/mm/.mm, /var/lib/mm/0123abcd/postgres)',
    )
  })
})
