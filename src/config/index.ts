import {existsSync, readFileSync} from 'node:fs'
import {resolve} from 'node:path'
import {parseEnv} from 'node:util'
import {z} from 'zod'

import {parseDuration} from '../lib/duration.js'
import {UsageError} from '../lib/errors.js'

export const INFRA_MODES = ['auto', 'compose', 'native', 'external'] as const
export type InfraMode = (typeof INFRA_MODES)[number]
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const

/**
 * Every setting mm knows, with its environment twin. Flags win over the environment, the
 * environment over `.env` in the working directory, `.env` over the defaults.
 */
export const ENV = {
  dataDir: 'MM_DATA_DIR',
  infra: 'MM_INFRA',
  waitTimeout: 'MM_WAIT_TIMEOUT',
  logLevel: 'MM_LOG_LEVEL',
  postgresUrl: 'MM_POSTGRES_URL',
  redisUrl: 'MM_REDIS_URL',
  rabbitmqUrl: 'MM_RABBITMQ_URL',
  rabbitmqManagementUrl: 'MM_RABBITMQ_MANAGEMENT_URL',
  kafkaBrokers: 'MM_KAFKA_BROKERS',
  mongodbUrl: 'MM_MONGODB_URL',
  httpHost: 'MM_HTTP_HOST',
  httpPort: 'MM_HTTP_PORT',
  ingestFlushInterval: 'MM_INGEST_FLUSH_INTERVAL',
  retryBackoff: 'MM_RETRY_BACKOFF',
  cacheDir: 'MM_CACHE_DIR',
  apiUrl: 'MM_API_URL',
  /** mm up: runners not to start, comma-separated (the twin of the repeatable --exclude). */
  exclude: 'MM_EXCLUDE',
  /** Tracing of the runners: on (default) or off. */
  trace: 'MM_TRACE',
  /** Share of traces recorded, 0 to 1. */
  traceSample: 'MM_TRACE_SAMPLE',
  /** How long the span store keeps spans. */
  traceRetention: 'MM_TRACE_RETENTION',
  // Compose mode: where its published ports go, and the PostgreSQL password it sets.
  composePostgresPort: 'MM_POSTGRES_PORT',
  composeRedisPort: 'MM_REDIS_PORT',
  composeRabbitmqPort: 'MM_RABBITMQ_PORT',
  composeRabbitmqManagementPort: 'MM_RABBITMQ_MANAGEMENT_PORT',
  composeKafkaPort: 'MM_KAFKA_PORT',
  composeMongoPort: 'MM_MONGO_PORT',
  composePostgresPassword: 'MM_POSTGRES_PASSWORD',
} as const

const COMPOSE_KEYS = [
  'composePostgresPort',
  'composeRedisPort',
  'composeRabbitmqPort',
  'composeRabbitmqManagementPort',
  'composeKafkaPort',
  'composeMongoPort',
  'composePostgresPassword',
] as const
export type ConfigKey = keyof typeof ENV

const duration = (what: string) =>
  z.union([z.string(), z.number()]).transform((v, ctx) => {
    const ms = parseDuration(v)
    if (ms === undefined) {
      ctx.addIssue({code: 'custom', message: `${what} must be a duration like 500ms, 30s, 2m or 1h (got "${v}")`})
      return z.NEVER
    }
    return ms
  })

const url = (protocols: string[]) =>
  z
    .string()
    .optional()
    .refine(
      (v) => {
        if (v === undefined) return true
        try {
          return protocols.includes(new URL(v).protocol)
        } catch {
          return false
        }
      },
      {message: `must be a URL starting with ${protocols.map((p) => p + '//').join(' or ')}`},
    )
    // What `mm env` prints without --reveal: refuse it rather than fail authentication later.
    .refine((v) => v === undefined || !/^[^/]*\/\/[^/@]*:\*{3,}@/.test(v), {
      message: 'has a masked password (***): print the real settings with mm env --reveal',
    })

const schema = z.object({
  cwd: z.string(),
  dataDir: z.string(),
  cacheDir: z.string(),
  infra: z.enum(INFRA_MODES, {message: `must be one of ${INFRA_MODES.join(', ')}`}),
  waitTimeoutMs: duration('wait timeout'),
  logLevel: z.enum(LOG_LEVELS, {message: `must be one of ${LOG_LEVELS.join(', ')}`}),
  postgresUrl: url(['postgres:', 'postgresql:']),
  redisUrl: url(['redis:', 'rediss:']),
  rabbitmqUrl: url(['amqp:', 'amqps:']),
  rabbitmqManagementUrl: url(['http:', 'https:']),
  kafkaBrokers: z
    .string()
    .optional()
    .transform((v) =>
      v === undefined
        ? undefined
        : v
            .split(',')
            .map((b) => b.trim())
            .filter(Boolean),
    )
    .refine((v) => v === undefined || (v.length > 0 && v.every((b) => /^[^\s:]+:\d+$/.test(b))), {
      message: 'must be a comma-separated list of host:port',
    }),
  mongodbUrl: url(['mongodb:', 'mongodb+srv:']),
  httpHost: z.string().min(1),
  apiUrl: url(['http:', 'https:']),
  exclude: z
    .string()
    .optional()
    .transform((v) =>
      (v ?? '')
        .split(',')
        .map((c) => c.trim())
        .filter(Boolean),
    ),
  /** MM_*_PORT and MM_POSTGRES_PASSWORD as given, for the compose runtime (it validates ports). */
  compose: z.record(z.string(), z.string()).superRefine((env, ctx) => {
    for (const [name, value] of Object.entries(env)) {
      if (name.endsWith('_PORT') && !/^\d{1,5}$/.test(value))
        ctx.addIssue({code: 'custom', path: [name], message: `must be a port number 1-65535 (got "${value}")`})
    }
  }),
  httpPort: z
    .union([z.number(), z.string().trim().regex(/^\d+$/, 'must be a port number 0-65535').transform(Number)])
    .pipe(z.number().int().min(0).max(65535, 'must be a port number 0-65535')),
  ingestFlushIntervalMs: duration('ingest flush interval'),
  trace: z.enum(['on', 'off'], {message: 'must be on or off'}),
  traceSample: z
    .union([
      z.number(),
      z
        .string()
        .trim()
        .regex(/^\d*\.?\d+$/, 'must be a number from 0 to 1, like 0.1')
        .transform(Number),
    ])
    .pipe(z.number().min(0, 'must be a number from 0 to 1, like 0.1').max(1, 'must be a number from 0 to 1, like 0.1')),
  traceRetentionMs: duration('trace retention'),
  retryBackoffMs: z.string().transform((v, ctx) => {
    const steps = v.split(',').map((s) => parseDuration(s.trim()))
    if (steps.length === 0 || steps.some((s) => s === undefined)) {
      ctx.addIssue({code: 'custom', message: `must be a comma-separated list of durations like 1s,2s,4s (got "${v}")`})
      return z.NEVER
    }
    return steps as number[]
  }),
})

type Parsed = z.infer<typeof schema>
export type Config = Readonly<
  Omit<Parsed, 'retryBackoffMs' | 'kafkaBrokers' | 'exclude'> & {
    retryBackoffMs: readonly number[]
    kafkaBrokers?: readonly string[]
    exclude: readonly string[]
  }
>

export interface ConfigInput {
  /** Values from flags, already named by config key; undefined means "not given". */
  flags?: Partial<Record<ConfigKey, string | number | undefined>>
  env?: NodeJS.ProcessEnv
  cwd?: string
}

/** Settings that also have a command-line flag (the others are environment-only). */
const FLAGGED = new Set<ConfigKey>(['dataDir', 'logLevel', 'infra', 'waitTimeout', 'httpPort', 'exclude'])

const DEFAULTS = {
  infra: 'auto',
  waitTimeout: '120s',
  logLevel: 'info',
  httpHost: '127.0.0.1',
  httpPort: '8080',
  ingestFlushInterval: '1h',
  retryBackoff: '1s,2s,4s,8s,16s',
  trace: 'on',
  // Measured (BENCHMARKS.md): recording every trace costs a third of the order flow's capacity on
  // 2 cores; one in ten keeps mm trace useful under load. MM_TRACE_SAMPLE=1 records every order.
  traceSample: '0.1',
  traceRetention: '1h',
} satisfies Partial<Record<ConfigKey, string>>

const readDotEnv = (cwd: string): Record<string, string> => {
  const path = resolve(cwd, '.env')
  if (!existsSync(path)) return {}
  try {
    return parseEnv(readFileSync(path, 'utf8')) as Record<string, string>
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as Error).message}`, 'fix or remove the .env file')
  }
}

/** Loads, validates and freezes the configuration. The only reader of process.env besides ui/terminal.ts. */
export const loadConfig = (input: ConfigInput = {}): Config => {
  const cwd = input.cwd ?? process.cwd()
  const env = input.env ?? process.env
  const dotenv = readDotEnv(cwd)
  // An empty value means "not set", as in most tools (MM_HTTP_PORT= must not become port 0).
  const given = (v: string | number | undefined) => (typeof v === 'string' && v.trim() === '' ? undefined : v)
  const pick = (key: ConfigKey): string | number | undefined =>
    given(input.flags?.[key]) ?? given(env[ENV[key]]) ?? given(dotenv[ENV[key]]) ?? (DEFAULTS as Record<string, string>)[key]

  const home = env.HOME ?? '/root'
  const raw = {
    cwd,
    dataDir: resolve(cwd, String(pick('dataDir') ?? '.mm')),
    cacheDir: resolve(cwd, String(pick('cacheDir') ?? resolve(env.XDG_CACHE_HOME ?? resolve(home, '.cache'), 'mm'))),
    infra: pick('infra'),
    waitTimeoutMs: pick('waitTimeout'),
    logLevel: pick('logLevel'),
    postgresUrl: pick('postgresUrl'),
    redisUrl: pick('redisUrl'),
    rabbitmqUrl: pick('rabbitmqUrl'),
    rabbitmqManagementUrl: pick('rabbitmqManagementUrl'),
    kafkaBrokers: pick('kafkaBrokers'),
    mongodbUrl: pick('mongodbUrl'),
    httpHost: pick('httpHost'),
    apiUrl: pick('apiUrl'),
    exclude: pick('exclude'),
    compose: Object.fromEntries(
      COMPOSE_KEYS.flatMap((k) => {
        const v = pick(k)
        return v === undefined ? [] : [[ENV[k], String(v)]]
      }),
    ),
    httpPort: pick('httpPort'),
    ingestFlushIntervalMs: pick('ingestFlushInterval'),
    retryBackoffMs: pick('retryBackoff'),
    trace: pick('trace'),
    traceSample: pick('traceSample'),
    traceRetentionMs: pick('traceRetention'),
  }
  const parsed = schema.safeParse(raw)
  if (!parsed.success) {
    const keyOf = (path: PropertyKey[]): string => {
      if (path[0] === 'compose') return String(path[1])
      const field = String(path[0])
      const key = (Object.keys(ENV) as ConfigKey[]).sort((a, b) => b.length - a.length).find((k) => field.startsWith(k))
      if (!key) return field
      return FLAGGED.has(key) ? `${ENV[key]} (--${key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())})` : ENV[key]
    }
    const lines = parsed.error.issues.map((i) => `${keyOf(i.path)}: ${i.message}`)
    throw new UsageError(`invalid configuration:\n  ${lines.join('\n  ')}`, 'fix the flag, the MM_* variable or .env')
  }
  const data = parsed.data
  return Object.freeze({
    ...data,
    retryBackoffMs: Object.freeze(data.retryBackoffMs),
    kafkaBrokers: data.kafkaBrokers && Object.freeze(data.kafkaBrokers),
    exclude: Object.freeze(data.exclude),
  }) as Config
}

/**
 * The configuration as MM_* variables, for child processes of mm (the detached supervisor) so they
 * run with exactly the settings of the command that started them.
 */
export const configToEnv = (config: Config): Record<string, string> => {
  const env: Record<string, string> = {
    [ENV.dataDir]: config.dataDir,
    [ENV.cacheDir]: config.cacheDir,
    [ENV.infra]: config.infra,
    [ENV.waitTimeout]: `${config.waitTimeoutMs}ms`,
    [ENV.logLevel]: config.logLevel,
    [ENV.httpHost]: config.httpHost,
    [ENV.httpPort]: String(config.httpPort),
    [ENV.ingestFlushInterval]: `${config.ingestFlushIntervalMs}ms`,
    [ENV.retryBackoff]: config.retryBackoffMs.map((ms) => `${ms}ms`).join(','),
    [ENV.trace]: config.trace,
    [ENV.traceSample]: String(config.traceSample),
    [ENV.traceRetention]: `${config.traceRetentionMs}ms`,
  }
  const urls: [ConfigKey, string | undefined][] = [
    ['postgresUrl', config.postgresUrl],
    ['redisUrl', config.redisUrl],
    ['rabbitmqUrl', config.rabbitmqUrl],
    ['rabbitmqManagementUrl', config.rabbitmqManagementUrl],
    ['kafkaBrokers', config.kafkaBrokers?.join(',')],
    ['mongodbUrl', config.mongodbUrl],
    ['apiUrl', config.apiUrl],
  ]
  Object.assign(env, config.compose)
  for (const [key, value] of urls) if (value !== undefined) env[ENV[key]] = value
  return env
}
