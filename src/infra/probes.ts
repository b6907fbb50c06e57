import type {Endpoints, Prober, ServerName} from './types.js'

export interface ProbeResult {
  version?: string
}

const withTimeout = async <T>(ms: number, what: string, work: Promise<T>): Promise<T> => {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms}ms`)), ms)
      }),
    ])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Health probes through the stack's own clients: each opens a connection, asks for the server
 * version and closes. They throw when the server does not answer properly.
 */
export const probes: Record<ServerName, (e: Endpoints, timeoutMs: number) => Promise<ProbeResult>> = {
  postgres: async (e, timeoutMs) => {
    const {default: pg} = await import('pg')
    const client = new pg.Client({connectionString: e.postgres, connectionTimeoutMillis: timeoutMs})
    client.on('error', () => {})
    try {
      await client.connect()
      const {rows} = await withTimeout(timeoutMs, 'postgres', client.query<{v: string}>("SELECT current_setting('server_version') AS v"))
      return {version: rows[0]?.v.split(' ')[0]}
    } finally {
      await client.end().catch(() => {})
    }
  },
  redis: async (e, timeoutMs) => {
    const {Redis} = await import('ioredis')
    const client = new Redis(e.redis, {
      lazyConnect: true,
      connectTimeout: timeoutMs,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      enableOfflineQueue: false,
    })
    client.on('error', () => {})
    try {
      await withTimeout(timeoutMs, 'redis', client.connect())
      const info = await withTimeout(timeoutMs, 'redis', client.info('server'))
      return {version: /redis_version:(\S+)/.exec(info)?.[1]}
    } finally {
      client.disconnect()
    }
  },
  rabbitmq: async (e, timeoutMs) => {
    const amqp = await import('amqplib')
    const conn = await withTimeout(timeoutMs, 'rabbitmq', amqp.connect(e.rabbitmq, {timeout: timeoutMs}))
    conn.on('error', () => {})
    try {
      const version = (conn as unknown as {connection: {serverProperties: {version?: string}}}).connection.serverProperties.version
      // The management API is part of the contract (queue stats for status and the dashboard).
      const res = await withTimeout(timeoutMs, 'rabbitmq management', managementFetch(e.rabbitmqManagement, '/api/overview'))
      if (!res.ok) throw new Error(`rabbitmq management API answered ${res.status}`)
      return {version}
    } finally {
      await conn.close().catch(() => {})
    }
  },
  kafka: async (e, timeoutMs) => {
    const {Kafka, logLevel} = await import('../../services/shared/kafkajs.js')
    const kafka = new Kafka({
      clientId: 'mm-probe',
      brokers: e.kafka,
      connectionTimeout: timeoutMs,
      requestTimeout: timeoutMs,
      retry: {retries: 0},
      logLevel: logLevel.NOTHING,
    })
    const admin = kafka.admin()
    try {
      await withTimeout(timeoutMs, 'kafka', admin.connect())
      const cluster = await withTimeout(timeoutMs, 'kafka', admin.describeCluster())
      if (cluster.brokers.length === 0) throw new Error('kafka: no broker in the cluster')
      return {}
    } finally {
      await admin.disconnect().catch(() => {})
    }
  },
  mongo: async (e, timeoutMs) => {
    const {MongoClient} = await import('mongodb')
    const client = new MongoClient(e.mongo, {serverSelectionTimeoutMS: timeoutMs, connectTimeoutMS: timeoutMs, directConnection: true})
    try {
      await client.connect()
      const info = await client.db('admin').command({buildInfo: 1})
      return {version: String(info.version)}
    } finally {
      await client.close().catch(() => {})
    }
  },
}

/** GET on the RabbitMQ management API, with the credentials of its URL as basic auth. */
export const managementFetch = (base: string, path: string, init: RequestInit = {}): Promise<Response> => {
  const url = new URL(base)
  const auth = Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')
  url.username = ''
  url.password = ''
  return fetch(new URL(path, url), {...init, headers: {authorization: `Basic ${auth}`, ...init.headers}})
}

export const defaultProber: Prober = (name, endpoints, timeoutMs) => probes[name](endpoints, timeoutMs)
