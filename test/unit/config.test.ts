import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {type Config, type ConfigInput, configToEnv, ENV, loadConfig} from '../../src/config/index.js'
import {ExitCode, UsageError} from '../../src/lib/errors.js'
import {DEFAULT_COMPONENT_CONFIG} from '../../services/shared/runner.js'

let cwd: string

beforeEach(() => {
  cwd = mkdtempSync(join(tmpdir(), 'mm-config-'))
})

afterEach(() => {
  rmSync(cwd, {recursive: true, force: true})
})

const dotEnv = (text: string) => writeFileSync(join(cwd, '.env'), text)

/** Never reads process.env: every test passes its own environment and working directory. */
const load = (input: Omit<ConfigInput, 'cwd'> = {}): Config => loadConfig({env: {}, cwd, ...input})

const usageError = (input: Omit<ConfigInput, 'cwd'>): UsageError => {
  try {
    load(input)
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError)
    return error as UsageError
  }
  throw new Error(`expected loadConfig(${JSON.stringify(input)}) to throw a UsageError`)
}

describe('loadConfig defaults', () => {
  it('fills every setting from the defaults when nothing is given', () => {
    const config = load({env: {HOME: '/home/someone'}})
    expect(config).toMatchObject({
      cwd,
      dataDir: join(cwd, '.mm'),
      cacheDir: '/home/someone/.cache/mm',
      infra: 'auto',
      waitTimeoutMs: 120_000,
      logLevel: 'info',
      httpHost: '127.0.0.1',
      httpPort: 8080,
      ingestFlushIntervalMs: 3_600_000,
      retryBackoffMs: [1000, 2000, 4000, 8000, 16_000],
    })
    for (const key of ['postgresUrl', 'redisUrl', 'rabbitmqUrl', 'rabbitmqManagementUrl', 'kafkaBrokers', 'mongodbUrl'] as const) {
      expect(config[key], key).toBeUndefined()
    }
  })

  it('agrees with the defaults a component falls back to (services/shared/runner.ts)', () => {
    expect(load({}), 'DEFAULT_COMPONENT_CONFIG').toMatchObject(DEFAULT_COMPONENT_CONFIG)
  })

  it('puts the cache under XDG_CACHE_HOME when set', () => {
    expect(load({env: {HOME: '/home/someone', XDG_CACHE_HOME: '/var/cache/x'}}).cacheDir).toBe('/var/cache/x/mm')
  })

  it('resolves a relative data dir against cwd, and keeps an absolute one', () => {
    expect(load({env: {MM_DATA_DIR: 'state/here'}}).dataDir).toBe(resolve(cwd, 'state/here'))
    expect(load({env: {MM_DATA_DIR: '/abs/dir'}}).dataDir).toBe('/abs/dir')
  })

  it('returns a frozen object', () => {
    const config = load()
    expect(Object.isFrozen(config)).toBe(true)
    expect(() => {
      ;(config as {infra: string}).infra = 'native'
    }).toThrow(TypeError)
    expect(config.infra).toBe('auto')
  })

  it('ignores a missing .env file', () => {
    expect(load().infra).toBe('auto')
  })
})

describe('loadConfig precedence: flags > env > .env > defaults', () => {
  beforeEach(() => {
    dotEnv(['MM_INFRA=native', 'MM_WAIT_TIMEOUT=5s', 'MM_LOG_LEVEL="debug"', '# a comment', 'MM_HTTP_PORT=9000', ''].join('\n'))
  })

  it('.env in cwd beats the defaults', () => {
    const config = load()
    expect(config.infra).toBe('native')
    expect(config.waitTimeoutMs).toBe(5000)
    expect(config.logLevel).toBe('debug')
    expect(config.httpPort).toBe(9000)
    expect(config.httpHost).toBe('127.0.0.1') // not in .env: default
  })

  it('the environment beats .env', () => {
    const config = load({env: {MM_INFRA: 'compose', MM_WAIT_TIMEOUT: '7s'}})
    expect(config.infra).toBe('compose')
    expect(config.waitTimeoutMs).toBe(7000)
    expect(config.logLevel).toBe('debug') // only in .env
  })

  it('flags beat the environment and .env', () => {
    const config = load({
      env: {MM_INFRA: 'compose', MM_WAIT_TIMEOUT: '7s', MM_HTTP_PORT: '9100'},
      flags: {infra: 'external', waitTimeout: '2m', httpPort: 0},
    })
    expect(config.infra).toBe('external')
    expect(config.waitTimeoutMs).toBe(120_000)
    expect(config.httpPort).toBe(0)
  })

  it('an undefined flag falls through to the environment', () => {
    const config = load({env: {MM_INFRA: 'compose'}, flags: {infra: undefined, waitTimeout: undefined}})
    expect(config.infra).toBe('compose')
    expect(config.waitTimeoutMs).toBe(5000)
  })

  it('reads .env from the given cwd, not from the process working directory', () => {
    const other = mkdtempSync(join(tmpdir(), 'mm-config-other-'))
    try {
      expect(loadConfig({env: {}, cwd: other}).infra).toBe('auto')
    } finally {
      rmSync(other, {recursive: true, force: true})
    }
  })

  it('every setting has an MM_* twin that is honoured', () => {
    const env = {
      MM_DATA_DIR: '/d',
      MM_CACHE_DIR: '/c',
      MM_INFRA: 'external',
      MM_WAIT_TIMEOUT: '1m30s',
      MM_LOG_LEVEL: 'warn',
      MM_POSTGRES_URL: 'postgresql://mm:pw@h:5432/db',
      MM_REDIS_URL: 'rediss://h:6380',
      MM_RABBITMQ_URL: 'amqps://u:p@h:5671',
      MM_RABBITMQ_MANAGEMENT_URL: 'https://h:15671',
      MM_KAFKA_BROKERS: 'k1:9092',
      MM_MONGODB_URL: 'mongodb+srv://cluster.example.com/db',
      MM_HTTP_HOST: '0.0.0.0',
      MM_HTTP_PORT: '8181',
      MM_INGEST_FLUSH_INTERVAL: '250ms',
      MM_RETRY_BACKOFF: '100ms',
    }
    expect(Object.values(ENV)).toEqual(expect.arrayContaining(Object.keys(env)))
    expect(load({env})).toMatchObject({
      dataDir: '/d',
      cacheDir: '/c',
      infra: 'external',
      waitTimeoutMs: 90_000,
      logLevel: 'warn',
      postgresUrl: 'postgresql://mm:pw@h:5432/db',
      redisUrl: 'rediss://h:6380',
      rabbitmqUrl: 'amqps://u:p@h:5671',
      rabbitmqManagementUrl: 'https://h:15671',
      kafkaBrokers: ['k1:9092'],
      mongodbUrl: 'mongodb+srv://cluster.example.com/db',
      httpHost: '0.0.0.0',
      httpPort: 8181,
      ingestFlushIntervalMs: 250,
      retryBackoffMs: [100],
    })
  })
})

describe('every MM_* variable is read', () => {
  const defaults = () => load()

  it.each(Object.entries(ENV))('%s (%s) either changes the config or is rejected by name', (_key, variable) => {
    // A value no setting takes as is: free-text settings change, validated ones throw naming the variable.
    let config: Config | undefined
    try {
      config = load({env: {[variable]: 'garbage value'}})
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError)
      expect((error as UsageError).message).toContain(`${variable}`)
      return
    }
    expect(config).not.toEqual(defaults())
  })
})

describe('configToEnv', () => {
  it('round-trips a full configuration through MM_* variables', () => {
    const original = load({
      env: {
        MM_DATA_DIR: '/d',
        MM_CACHE_DIR: '/c',
        MM_INFRA: 'external',
        MM_WAIT_TIMEOUT: '1m30s',
        MM_LOG_LEVEL: 'warn',
        MM_POSTGRES_URL: 'postgresql://mm:pw@h:5432/db',
        MM_REDIS_URL: 'rediss://h:6380',
        MM_RABBITMQ_URL: 'amqps://u:p@h:5671',
        MM_RABBITMQ_MANAGEMENT_URL: 'https://h:15671',
        MM_KAFKA_BROKERS: 'k1:9092,k2:9093',
        MM_MONGODB_URL: 'mongodb+srv://cluster.example.com/db',
        MM_HTTP_HOST: '0.0.0.0',
        MM_HTTP_PORT: '8181',
        MM_INGEST_FLUSH_INTERVAL: '250ms',
        MM_RETRY_BACKOFF: '100ms,1.5s',
      },
    })
    const env = configToEnv(original)
    for (const variable of Object.keys(env)) expect(Object.values(ENV)).toContain(variable)
    expect(loadConfig({env, cwd: '/somewhere/else'})).toEqual({...original, cwd: '/somewhere/else'})
  })

  it('round-trips the defaults and leaves unset connection settings out', () => {
    const original = load({env: {HOME: '/home/x'}})
    const env = configToEnv(original)
    expect(env).not.toHaveProperty('MM_POSTGRES_URL')
    expect(env).not.toHaveProperty('MM_KAFKA_BROKERS')
    expect(loadConfig({env, cwd})).toEqual(original)
  })
})

describe('loadConfig validation', () => {
  it('throws a UsageError (exit 2) naming the MM_* variable and the flag', () => {
    const error = usageError({env: {MM_WAIT_TIMEOUT: 'soon'}})
    expect(error.exitCode).toBe(ExitCode.usage)
    expect(error.exitCode).toBe(2)
    expect(error.code).toBe('usage')
    expect(error.message).toContain('MM_WAIT_TIMEOUT')
    expect(error.message).toContain('--wait-timeout')
    expect(error.message).toContain('"soon"')
    expect(error.hint).toMatch(/MM_\*/)
  })

  it('reports every invalid setting at once, each on its own line', () => {
    const error = usageError({env: {MM_INFRA: 'k8s', MM_LOG_LEVEL: 'loud', MM_HTTP_PORT: '70000'}})
    const lines = error.message.split('\n')
    expect(lines.find((l) => l.includes('MM_INFRA'))).toMatch(/MM_INFRA \(--infra\): must be one of auto, compose, native, external/)
    expect(lines.find((l) => l.includes('MM_LOG_LEVEL'))).toMatch(/MM_LOG_LEVEL \(--log-level\): must be one of debug, info, warn, error/)
    expect(lines.find((l) => l.includes('MM_HTTP_PORT'))).toContain('--http-port')
  })

  it('names the variable for values that came from a flag too', () => {
    const error = usageError({flags: {dataDir: undefined, infra: 'nope'}})
    expect(error.message).toContain('MM_INFRA (--infra)')
  })

  it('validates values read from .env', () => {
    dotEnv('MM_INGEST_FLUSH_INTERVAL=often\n')
    const error = usageError({})
    expect(error.message).toContain('MM_INGEST_FLUSH_INTERVAL: ')
    expect(error.message).toContain('"often"')
  })

  it.each(['-1', '65536', '80.5', 'eighty'])('rejects the HTTP port %j', (port) => {
    expect(usageError({env: {MM_HTTP_PORT: port}}).message).toContain('MM_HTTP_PORT')
  })

  it.each([
    ['MM_POSTGRES_URL', 'postgres://mm@h/db', 'mysql://mm@h/db'],
    ['MM_POSTGRES_URL', 'postgresql://h/db', 'http://h/db'],
    ['MM_REDIS_URL', 'redis://h:6379', 'http://h:6379'],
    ['MM_RABBITMQ_URL', 'amqp://h', 'redis://h'],
    ['MM_RABBITMQ_MANAGEMENT_URL', 'http://h:15672', 'amqp://h:15672'],
    ['MM_MONGODB_URL', 'mongodb://h:27017/db', 'postgres://h/db'],
  ])('%s accepts %s and rejects %s by protocol', (variable, good, bad) => {
    expect(() => load({env: {[variable]: good}})).not.toThrow()
    const error = usageError({env: {[variable]: bad}})
    expect(error.message).toContain(`${variable}: must be a URL starting with`)
  })

  it('lists the accepted protocols', () => {
    expect(usageError({env: {MM_POSTGRES_URL: 'pg://h'}}).message).toContain('postgres:// or postgresql://')
  })

  it('rejects a URL that does not parse', () => {
    expect(usageError({env: {MM_REDIS_URL: 'not a url'}}).message).toContain('MM_REDIS_URL')
  })
})

describe('kafka brokers', () => {
  it('splits a comma-separated list and trims the entries', () => {
    expect(load({env: {MM_KAFKA_BROKERS: ' a:9092 , b.example.com:9093,c:1'}}).kafkaBrokers).toEqual(['a:9092', 'b.example.com:9093', 'c:1'])
  })

  it('drops empty entries', () => {
    expect(load({env: {MM_KAFKA_BROKERS: 'a:9092,,b:9093,'}}).kafkaBrokers).toEqual(['a:9092', 'b:9093'])
  })

  it.each(['a', 'a:9092,b', 'a:port', 'http://a:9092', ',', 'a b:9092'])('rejects %j', (brokers) => {
    const error = usageError({env: {MM_KAFKA_BROKERS: brokers}})
    expect(error.message).toContain('MM_KAFKA_BROKERS: must be a comma-separated list of host:port')
  })
})

describe('retry backoff', () => {
  it('parses a comma-separated list of durations in order', () => {
    expect(load({env: {MM_RETRY_BACKOFF: '250ms, 1s,2m,3'}}).retryBackoffMs).toEqual([250, 1000, 120_000, 3000])
  })

  it('takes a flag over the environment', () => {
    expect(load({env: {MM_RETRY_BACKOFF: '1s'}, flags: {retryBackoff: '5s,10s'}}).retryBackoffMs).toEqual([5000, 10_000])
  })

  it('treats an empty value as unset (the default applies)', () => {
    expect(load({env: {MM_RETRY_BACKOFF: ''}}).retryBackoffMs).toEqual([1000, 2000, 4000, 8000, 16_000])
    expect(load({env: {MM_HTTP_PORT: ' '}}).httpPort).toBe(8080)
  })

  it.each(['1s,,2s', '1s,soon', 'x'])('rejects %j naming the variable', (value) => {
    const error = usageError({env: {MM_RETRY_BACKOFF: value}})
    expect(error.message).toContain('MM_RETRY_BACKOFF: ')
    expect(error.message).toContain('comma-separated list of durations')
  })
})

describe('durations', () => {
  it('accepts numbers from flags as seconds', () => {
    expect(load({flags: {waitTimeout: 90}}).waitTimeoutMs).toBe(90_000)
  })

  it('accepts combined units', () => {
    expect(load({env: {MM_WAIT_TIMEOUT: '1m30s'}}).waitTimeoutMs).toBe(90_000)
  })
})

describe('compose settings', () => {
  it('passes MM_*_PORT and MM_POSTGRES_PASSWORD through for the compose runtime, and back to children', async () => {
    const {loadConfig, configToEnv} = await import('../../src/config/index.js')
    const config = loadConfig({env: {MM_POSTGRES_PORT: '15432', MM_POSTGRES_PASSWORD: 's3cret'}, cwd: '/tmp'})
    expect(config.compose).toEqual({MM_POSTGRES_PORT: '15432', MM_POSTGRES_PASSWORD: 's3cret'})
    expect(configToEnv(config)).toMatchObject({MM_POSTGRES_PORT: '15432', MM_POSTGRES_PASSWORD: 's3cret'})
  })

  it('rejects a port that is not a number, naming the variable', async () => {
    const {loadConfig} = await import('../../src/config/index.js')
    expect(() => loadConfig({env: {MM_KAFKA_PORT: 'ninety'}, cwd: '/tmp'})).toThrow(/MM_KAFKA_PORT: must be a port number/)
  })
})
