import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {delimiter, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {COMPOSE_PORTS, createComposeRuntime, dockerEngineAvailable, parsePs} from '../../src/infra/compose/runtime.js'
import {StateStore} from '../../src/infra/state.js'
import {type ProgressEvent, SERVER_NAMES} from '../../src/infra/types.js'
import {ExitCode, type MmError} from '../../src/lib/errors.js'
import {silentLogger} from '../../src/lib/logger.js'

// The fake docker (test/fixtures/bin/docker) goes first on PATH; it logs every argv to FAKE_DOCKER_LOG.
const FAKE_BIN = fileURLToPath(new URL('../fixtures/bin', import.meta.url))
const COMPOSE_FILE = fileURLToPath(new URL('../../compose/docker-compose.yml', import.meta.url))
const COMPOSE = ['compose', '-f', COMPOSE_FILE, '-p', 'mercadomio']
const PS = [...COMPOSE, 'ps', '--all', '--format', 'json']
// Ports where nothing listens, so that every probe fails fast.
const CLOSED_PORTS = {
  MM_POSTGRES_PORT: '1',
  MM_REDIS_PORT: '2',
  MM_RABBITMQ_PORT: '3',
  MM_RABBITMQ_MANAGEMENT_PORT: '4',
  MM_KAFKA_PORT: '5',
  MM_MONGO_PORT: '6',
}

let dir: string
let dataDir: string
let saved: NodeJS.ProcessEnv

beforeEach(() => {
  saved = {...process.env}
  dir = mkdtempSync(join(tmpdir(), 'mm-compose-'))
  dataDir = join(dir, '.mm')
  for (const key of Object.keys(process.env)) if (key.startsWith('FAKE_DOCKER_')) delete process.env[key]
  process.env.PATH = `${FAKE_BIN}${delimiter}${saved.PATH ?? ''}`
  process.env.FAKE_DOCKER_LOG = join(dir, 'docker.log')
})

afterEach(() => {
  for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key]
  Object.assign(process.env, saved)
  rmSync(dir, {recursive: true, force: true})
})

const calls = (): string[][] => {
  const log = process.env.FAKE_DOCKER_LOG!
  if (!existsSync(log)) return []
  return readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as string[])
}
const runtime = (env?: Record<string, string>) => createComposeRuntime({composeFile: COMPOSE_FILE, dataDir, logger: silentLogger, env, probeTimeoutMs: 1000})
const upOptions = (events: ProgressEvent[] = [], signal = new AbortController().signal) => ({
  signal,
  waitTimeoutMs: 90_000,
  onProgress: (e: ProgressEvent) => events.push(e),
})
const failure = async (work: Promise<unknown>): Promise<MmError> => {
  try {
    await work
  } catch (error) {
    return error as MmError
  }
  throw new Error('expected a failure')
}

describe('createComposeRuntime: up', () => {
  it('runs `up -d --wait --wait-timeout` and records the endpoints in the state file', async () => {
    process.env.FAKE_DOCKER_STATE = join(dir, 'running') // nothing runs yet
    const events: ProgressEvent[] = []
    const result = await runtime().up(upOptions(events))

    expect(calls()).toEqual([PS, [...COMPOSE, 'up', '-d', '--wait', '--wait-timeout', '90']])
    expect(result.started).toEqual([...SERVER_NAMES])
    expect(result.endpoints).toEqual({
      postgres: 'postgres://mm:mercadomio@127.0.0.1:5432/mercadomio',
      redis: 'redis://127.0.0.1:6379',
      rabbitmq: 'amqp://guest:guest@127.0.0.1:5672',
      rabbitmqManagement: 'http://guest:guest@127.0.0.1:15672',
      kafka: ['127.0.0.1:9092'],
      mongo: 'mongodb://127.0.0.1:27017/?directConnection=true',
    })
    expect(events.filter((e) => e.type === 'starting').map((e) => e.server)).toEqual([...SERVER_NAMES])
    expect(events.filter((e) => e.type === 'ready' && !e.reused).map((e) => e.server)).toEqual([...SERVER_NAMES])

    const state = new StateStore(dataDir).read()!
    expect(state.runtime).toBe('compose')
    expect(state.servers.rabbitmq).toEqual({url: 'amqp://guest:guest@127.0.0.1:5672', ports: {main: 5672, management: 15672}})
    expect(state.servers.kafka).toEqual({url: '127.0.0.1:9092', ports: {main: 9092}})
    expect(state.secrets?.postgresPassword).toBe('mercadomio')
    // A later command, with a fresh runtime, finds the same endpoints.
    expect(await runtime().endpoints()).toEqual(result.endpoints)
  })

  it('takes ports and the password from its env, and hands them to compose', async () => {
    process.env.FAKE_DOCKER_STATE = join(dir, 'running')
    const result = await runtime({...CLOSED_PORTS, MM_POSTGRES_PASSWORD: 's3cr/t'}).up(upOptions())
    expect(result.endpoints.postgres).toBe('postgres://mm:s3cr%2Ft@127.0.0.1:1/mercadomio')
    expect(result.endpoints.kafka).toEqual(['127.0.0.1:5'])
    expect(result.endpoints.mongo).toBe('mongodb://127.0.0.1:6/?directConnection=true')
    expect(new StateStore(dataDir).read()!.servers.rabbitmq!.ports).toEqual({main: 3, management: 4})
  })

  it('reports an already healthy platform as reused, without running `up`', async () => {
    const events: ProgressEvent[] = []
    const result = await runtime().up(upOptions(events))
    expect(calls()).toEqual([PS])
    expect(result.started).toEqual([])
    expect(events).toHaveLength(5)
    expect(events.every((e) => e.type === 'ready' && e.reused)).toBe(true)
    expect(await runtime().endpoints()).toEqual(result.endpoints)
  })

  it('turns a failed `up` into exit code 1 with the failing container, its log tail and compose stderr', async () => {
    process.env.FAKE_DOCKER_STATE = join(dir, 'running')
    process.env.FAKE_DOCKER_FAIL = 'up'
    const events: ProgressEvent[] = []
    const error = await failure(runtime().up(upOptions(events)))

    expect(error.exitCode).toBe(ExitCode.failure)
    expect(error.message).toContain('docker compose up failed')
    expect(error.message).toContain('container mercadomio-kafka-1 is unhealthy')
    expect(error.message).toContain('kafka-1  | [2025-01-15 10:00:01,000] ERROR kafka: fake failure for tests')
    expect(error.hint).toBe('see: docker compose -p mercadomio logs kafka')
    expect(events.filter((e) => e.type === 'failed')).toEqual([{type: 'failed', server: 'kafka', error: 'container running (unhealthy)'}])
    expect(calls().slice(1)).toEqual([
      [...COMPOSE, 'up', '-d', '--wait', '--wait-timeout', '90'],
      PS,
      [...COMPOSE, 'logs', '--no-color', '--tail', '10', 'kafka'],
      [...COMPOSE, 'stop', ...SERVER_NAMES],
    ])
    expect(new StateStore(dataDir).read()).toBeUndefined()
  })

  it('turns an expired --wait-timeout into a readiness timeout (exit code 4)', async () => {
    process.env.FAKE_DOCKER_STATE = join(dir, 'running')
    process.env.FAKE_DOCKER_FAIL = 'timeout'
    const error = await failure(runtime().up({...upOptions(), waitTimeoutMs: 2500}))
    expect(error.exitCode).toBe(ExitCode.readinessTimeout)
    expect(error.message).toContain('not healthy after 3s')
    expect(error.message).toContain('application not healthy after 3s')
    expect(calls()[1]).toEqual([...COMPOSE, 'up', '-d', '--wait', '--wait-timeout', '3'])
  })

  it('says so when no Docker engine answers (preflight, exit code 3)', async () => {
    process.env.FAKE_DOCKER_ENGINE = 'down'
    const error = await failure(runtime().up(upOptions()))
    expect(error.exitCode).toBe(ExitCode.preflight)
    expect(error.message).toContain('Cannot connect to the Docker daemon')
    expect(error.hint).toContain('--infra native')
  })

  it('says so when there is no docker at all', async () => {
    process.env.PATH = join(dir, 'empty')
    const error = await failure(runtime().up(upOptions()))
    expect(error.exitCode).toBe(ExitCode.preflight)
    expect(error.message).toContain('docker is not installed')
  })

  it('stops compose and rolls back on abort (exit code 130)', async () => {
    process.env.FAKE_DOCKER_STATE = join(dir, 'running')
    process.env.FAKE_DOCKER_UP_DELAY_MS = '20000'
    const controller = new AbortController()
    const pending = runtime().up(upOptions([], controller.signal))
    setTimeout(() => controller.abort(), 300)
    const started = Date.now()
    const error = await failure(pending)
    expect(error.exitCode).toBe(ExitCode.interrupted)
    expect(Date.now() - started).toBeLessThan(10_000)
    expect(calls().at(-1)).toEqual([...COMPOSE, 'stop', ...SERVER_NAMES])
  })

  it('refuses to start over a platform run by another runtime', async () => {
    new StateStore(dataDir).write({version: 1, runtime: 'native', servers: {redis: {url: 'redis://127.0.0.1:6379', ports: {main: 6379}}}, extra: {}})
    const error = await failure(runtime().up(upOptions()))
    expect(error.exitCode).toBe(ExitCode.preflight)
    expect(calls()).toEqual([])
  })

  it('rejects a port variable that is not a port', () => {
    expect(() => runtime({MM_KAFKA_PORT: 'abc'})).toThrow(/MM_KAFKA_PORT must be a port number/)
  })
})

describe('createComposeRuntime: down', () => {
  it('runs `down` and forgets the servers, keeping the state file', async () => {
    await runtime().up(upOptions())
    await runtime().down({volumes: false})
    expect(calls().at(-1)).toEqual([...COMPOSE, 'down'])
    expect(new StateStore(dataDir).read()?.servers).toEqual({})
    expect(await runtime().endpoints()).toBeUndefined()
  })

  it('runs `down -v` and deletes the data directory', async () => {
    await runtime().up(upOptions())
    await runtime().down({volumes: true})
    expect(calls().at(-1)).toEqual([...COMPOSE, 'down', '-v'])
    expect(existsSync(dataDir)).toBe(false)
  })

  it('fails with a preflight error when no engine answers', async () => {
    process.env.FAKE_DOCKER_ENGINE = 'down'
    const error = await failure(runtime().down({volumes: false}))
    expect(error.exitCode).toBe(ExitCode.preflight)
  })
})

describe('createComposeRuntime: status', () => {
  for (const format of ['ndjson', 'array'] as const) {
    it(`reads ps output as ${format} and reports failed probes as unhealthy, without throwing`, async () => {
      if (format === 'array') process.env.FAKE_DOCKER_PS_FORMAT = 'array'
      const status = await runtime({...CLOSED_PORTS, MM_POSTGRES_PASSWORD: 'secret'}).status()
      expect(calls()).toEqual([PS])
      expect(status.map((s) => s.name)).toEqual([...SERVER_NAMES])
      for (const s of status) {
        expect(s.runtime).toBe('compose')
        expect(s.healthy, s.name).toBe(false)
        expect(s.error, s.name).toBeTruthy()
        expect(s.error, s.name).not.toMatch(/not started|container/)
      }
      // The probes went to the ports of the env.
      expect(status.find((s) => s.name === 'postgres')!.error).toContain('ECONNREFUSED 127.0.0.1:1')
      expect(status.find((s) => s.name === 'mongo')!.error).toContain('127.0.0.1:6')
      expect(status.find((s) => s.name === 'postgres')!.url).toBe('postgres://mm:***@127.0.0.1:1/mercadomio')
      expect(status.find((s) => s.name === 'kafka')!.url).toBe('127.0.0.1:5')
    })
  }

  it('reports what compose says about containers that are not healthy', async () => {
    process.env.FAKE_DOCKER_FAIL = 'up'
    const status = await runtime(CLOSED_PORTS).status()
    expect(status.find((s) => s.name === 'kafka')).toMatchObject({healthy: false, error: 'container is unhealthy'})
  })

  it('reports missing containers as not started', async () => {
    process.env.FAKE_DOCKER_STATE = join(dir, 'running')
    const status = await runtime(CLOSED_PORTS).status()
    expect(status.every((s) => !s.healthy && s.error === 'not started')).toBe(true)
  })

  it('reports an absent engine on every server instead of throwing', async () => {
    process.env.FAKE_DOCKER_ENGINE = 'down'
    const status = await runtime(CLOSED_PORTS).status()
    expect(status).toHaveLength(5)
    expect(status.every((s) => !s.healthy && /no Docker engine answers/.test(s.error ?? ''))).toBe(true)
  })
})

describe('parsePs', () => {
  const entry = {Service: 'redis', State: 'running', Health: 'healthy', ExitCode: 0}
  it('reads one JSON object per line (compose >= 2.21)', () => {
    expect(parsePs(`${JSON.stringify(entry)}\n${JSON.stringify({...entry, Service: 'mongo'})}\n`).map((e) => e.Service)).toEqual(['redis', 'mongo'])
  })
  it('reads one JSON array (older compose)', () => {
    expect(parsePs(JSON.stringify([entry, {...entry, Service: 'kafka'}])).map((e) => e.Service)).toEqual(['redis', 'kafka'])
  })
  it('reads no containers in both shapes', () => {
    expect(parsePs('')).toEqual([])
    expect(parsePs('[]\n')).toEqual([])
  })
})

describe('dockerEngineAvailable', () => {
  it('is true when `docker info` answers and the compose plugin is there', async () => {
    expect(await dockerEngineAvailable(5000)).toBe(true)
    expect(calls()).toEqual([
      ['info', '--format', '{{.ServerVersion}}'],
      ['compose', 'version'],
    ])
  })
  it('is false when the engine does not answer', async () => {
    process.env.FAKE_DOCKER_ENGINE = 'down'
    expect(await dockerEngineAvailable(5000)).toBe(false)
  })
  it('is false without docker', async () => {
    process.env.PATH = join(dir, 'empty')
    expect(await dockerEngineAvailable(5000)).toBe(false)
  })
  it('is false when docker does not answer in time', async () => {
    // FAKE_DOCKER_UP_DELAY_MS only delays `compose up`; a 1 ms budget cannot even start node.
    expect(await dockerEngineAvailable(1)).toBe(false)
  })
})

describe('COMPOSE_PORTS', () => {
  it('names a port for every server', () => {
    expect(Object.keys(COMPOSE_PORTS).sort()).toEqual([...SERVER_NAMES].sort())
  })
})
