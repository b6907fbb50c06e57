import {describe, expect, it} from 'vitest'

import {loadConfig} from '../../src/config/index.js'
import type {Endpoints} from '../../src/infra/types.js'
import {UsageError} from '../../src/lib/errors.js'
import {shellCommand, shellQuote} from '../../src/lib/shell.js'
import {maskUrl} from '../../src/lib/urls.js'
import {clientPlan} from '../../src/operations/connect.js'
import {envVariables} from '../../src/operations/env.js'
import {drainedChecks, readyChecks} from '../../src/operations/wait.js'
import type {PlatformSnapshot} from '../../src/operations/collectors/index.js'
import {resolveSelection} from '../../src/runtime/components.js'

const SECRET = "s3cr'et"
const endpoints: Endpoints = {
  postgres: `postgres://mm:${encodeURIComponent(SECRET)}@127.0.0.1:5432/mercadomio`,
  redis: 'redis://127.0.0.1:6379',
  rabbitmq: 'amqp://guest:guest@127.0.0.1:5672',
  rabbitmqManagement: 'http://guest:guest@127.0.0.1:15672',
  kafka: ['127.0.0.1:9092'],
  mongo: 'mongodb://127.0.0.1:27017/mercadomio',
}

describe('mm up [component…] --exclude', () => {
  it('starts every runner by default', () => {
    expect(resolveSelection({components: [], excluded: []})).toEqual({start: ['customer', 'product', 'order', 'query', 'ingest'], notStarted: []})
  })

  it('starts the named runners in start order and says why the others are not', () => {
    const r = resolveSelection({components: ['product', 'customer'], excluded: []})
    expect(r.start).toEqual(['customer', 'product'])
    expect(r.notStarted).toEqual(['order', 'query', 'ingest'].map((name) => ({name, reason: 'not selected by mm up product customer'})))
  })

  it('leaves the excluded ones out', () => {
    const r = resolveSelection({components: [], excluded: ['ingest', 'query']})
    expect(r.start).toEqual(['customer', 'product', 'order'])
    expect(r.notStarted).toEqual([
      {name: 'query', reason: 'excluded by mm up --exclude query'},
      {name: 'ingest', reason: 'excluded by mm up --exclude ingest'},
    ])
  })

  it('rejects unknown names with a usage error listing the valid ones', () => {
    expect(() => resolveSelection({components: ['orders'], excluded: ['bogus']})).toThrow(UsageError)
    expect(() => resolveSelection({components: ['orders'], excluded: []})).toThrow(
      'unknown component "orders"; valid names: customer, product, order, query, ingest',
    )
  })

  it('rejects a selection that leaves nothing to start', () => {
    expect(() => resolveSelection({components: ['order'], excluded: ['order']})).toThrow(/no runner to start/)
  })
})

describe('shell quoting', () => {
  it.each([
    ['127.0.0.1:9092', '127.0.0.1:9092'],
    ['postgres://mm@127.0.0.1:5432/mercadomio', 'postgres://mm@127.0.0.1:5432/mercadomio'],
    ['a b', "'a b'"],
    ['***', "'***'"],
    ["it's", "'it'\\''s'"],
    ['$HOME', "'$HOME'"],
    ['', "''"],
  ])('%s → %s', (value, quoted) => expect(shellQuote(value)).toBe(quoted))

  it('writes VAR=value before the command', () => {
    expect(shellCommand(['psql', 'postgres://mm@h/db'], {PGPASSWORD: 'x y'})).toBe("PGPASSWORD='x y' psql postgres://mm@h/db")
  })
})

describe('mm env', () => {
  it('gives the MM_* settings and the usual names, masked or not', () => {
    const masked = envVariables(endpoints, 'http://127.0.0.1:8080', maskUrl)
    expect(Object.keys(masked)).toEqual([
      'MM_POSTGRES_URL',
      'MM_REDIS_URL',
      'MM_RABBITMQ_URL',
      'MM_RABBITMQ_MANAGEMENT_URL',
      'MM_KAFKA_BROKERS',
      'MM_MONGODB_URL',
      'MM_API_URL',
      'DATABASE_URL',
      'REDIS_URL',
      'AMQP_URL',
      'KAFKA_BROKERS',
      'MONGODB_URL',
    ])
    expect(masked.DATABASE_URL).toBe('postgres://mm:***@127.0.0.1:5432/mercadomio')
    expect(JSON.stringify(masked)).not.toContain(encodeURIComponent(SECRET))
    const real = envVariables(endpoints, undefined, (u) => u)
    expect(real.MM_POSTGRES_URL).toBe(endpoints.postgres)
    expect(real.MM_API_URL).toBeUndefined()
  })

  it('masked URLs are refused by mm itself, naming --reveal', () => {
    expect(() => loadConfig({cwd: '/tmp', env: {MM_POSTGRES_URL: 'postgres://mm:***@127.0.0.1:5432/mercadomio'}})).toThrow(
      /MM_POSTGRES_URL: has a masked password.*mm env --reveal/,
    )
    expect(loadConfig({cwd: '/tmp', env: {MM_POSTGRES_URL: endpoints.postgres}}).postgresUrl).toBe(endpoints.postgres)
  })
})

describe('mm connect', () => {
  it('psql gets the password through PGPASSWORD, masked unless revealed', () => {
    const masked = clientPlan('postgres', endpoints, [], false)
    expect(masked).toMatchObject({programs: ['psql'], args: ['postgres://mm@127.0.0.1:5432/mercadomio'], env: {PGPASSWORD: '***'}})
    expect(clientPlan('postgres', endpoints, ['-c', 'select 1'], true)).toMatchObject({
      args: ['postgres://mm@127.0.0.1:5432/mercadomio', '-c', 'select 1'],
      env: {PGPASSWORD: SECRET},
    })
    expect(masked.install).toContain('postgresql-client')
  })

  it('redis-cli, mongosh, kcat and rabbitmqadmin are pointed at the platform', () => {
    expect(clientPlan('redis', {...endpoints, redis: 'redis://:pw@127.0.0.1:6380/2'}, [], false)).toMatchObject({
      args: ['-h', '127.0.0.1', '-p', '6380', '-n', '2'],
      env: {REDISCLI_AUTH: '***'},
      install: expect.stringContaining('redis-tools'),
    })
    expect(clientPlan('mongo', endpoints, [], false)).toMatchObject({
      programs: ['mongosh'],
      args: [endpoints.mongo],
      install: expect.stringContaining('no Debian package'),
    })
    expect(clientPlan('kafka', endpoints, [], false)).toMatchObject({programs: ['kcat', 'kafkacat'], args: ['-b', '127.0.0.1:9092', '-L']})
    expect(clientPlan('rabbitmq', endpoints, [], false).args).toEqual([
      '--host',
      '127.0.0.1',
      '--port',
      '15672',
      '--username',
      'guest',
      '--password',
      '***',
      'list',
      'queues',
    ])
  })
})

describe('mm wait checks', () => {
  const snapshot = (over: {ready?: number; lag?: number; pendingEvents?: number; drift?: boolean} = {}): PlatformSnapshot =>
    ({
      at: '',
      queues: {
        rabbitmq: {
          queues: [
            {name: 'pulses', ready: over.ready ?? 0, unacked: 0, consumers: 1, inPerSec: 0, outPerSec: 0, dlq: false},
            {name: 'pulses.dlq', ready: 3, unacked: 0, consumers: 0, inPerSec: 0, outPerSec: 0, dlq: true},
          ],
        },
        kafka: {lag: [{group: 'query', topic: 'order.created', lag: over.lag ?? 0, committed: 0, end: 0}], dlqs: []},
      },
      projections: {drift: over.drift ? [{status: 'PAID', write: 2, read: 1}] : [], pendingEvents: over.pendingEvents ?? 0},
      aggregates: {error: 'n/a'},
    }) as PlatformSnapshot

  it('drained when outboxes, queues (not DLQs), lag and the read model are all settled', () => {
    expect(drainedChecks({customer: 0, product: 0, order: 0}, snapshot()).every((c) => c.ok)).toBe(true)
  })

  it('names what is still in flight', () => {
    const pending = drainedChecks({customer: 0, product: 0, order: 2}, snapshot({ready: 5, lag: 7, pendingEvents: 7})).filter((c) => !c.ok)
    expect(pending).toEqual([
      {name: 'outbox order', ok: false, detail: '2 unpublished'},
      {name: 'rabbitmq pulses', ok: false, detail: '5 ready, 0 unacked'},
      {name: 'kafka query', ok: false, detail: 'lag 7 (order.created 7)'},
      {name: 'read model', ok: false, detail: '7 events to apply'},
    ])
  })

  it('ready needs a running platform', () => {
    expect(readyChecks({runtime: 'none', healthy: false, servers: [], supervisor: {running: false}, runners: []})).toEqual([
      {name: 'platform', ok: false, detail: 'not running (start it with mm up -d)'},
    ])
  })
})
