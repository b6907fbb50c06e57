import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'

import {outboxTables, processedEventsTables} from '../../../services/shared/tables.js'
import type {Logger} from '../../lib/logger.js'
import {packageRoot} from '../../lib/package-root.js'
import type {Endpoints} from '../types.js'
import {dlqOf, dlxOf, type Topology} from './spec.js'

export interface ApplyResult {
  kafkaTopicsCreated: string[]
  rabbitQueuesDeclared: string[]
  migrationsApplied: string[]
  mongoIndexes: string[]
}

/** Applies migrations and topology; every step is idempotent, so `mm up` runs it every time. */
export const applyTopology = async (endpoints: Endpoints, topology: Topology, logger: Logger): Promise<ApplyResult> => {
  const [migrationsApplied, kafkaTopicsCreated, rabbitQueuesDeclared, mongoIndexes] = await Promise.all([
    applyMigrations(endpoints.postgres, topology.migrations, logger),
    applyKafka(endpoints.kafka, topology),
    applyRabbit(endpoints.rabbitmq, topology),
    applyMongo(endpoints.mongo, topology),
  ])
  logger.info('topology.applied', {
    migrations: migrationsApplied.length,
    topics: kafkaTopicsCreated.length,
    queues: rabbitQueuesDeclared.length,
    indexes: mongoIndexes.length,
  })
  return {kafkaTopicsCreated, rabbitQueuesDeclared, migrationsApplied, mongoIndexes}
}

export const migrationFiles = (component: string): {version: string; sql: string}[] => {
  const dir = join(packageRoot(), 'services', component, 'migrations')
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => ({version: f.replace(/\.sql$/, ''), sql: readFileSync(join(dir, f), 'utf8')}))
}

/**
 * Per component: a `<schema>.schema_migrations` ledger, each migration in its own transaction
 * under an advisory lock, so two `mm up` at once apply each migration once.
 */
export const applyMigrations = async (url: string, components: string[], logger: Logger): Promise<string[]> => {
  const {default: pg} = await import('pg')
  const client = new pg.Client({connectionString: url})
  client.on('error', (error) => logger.warn('postgres.error', {error: error.message}))
  await client.connect()
  const applied: string[] = []
  try {
    for (const component of components) {
      await client.query('BEGIN')
      try {
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`mm.migrations.${component}`])
        await client.query(`CREATE SCHEMA IF NOT EXISTS "${component}"`)
        await client.query(
          `CREATE TABLE IF NOT EXISTS "${component}".schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
        )
        for (const ddl of [...outboxTables(component), ...processedEventsTables(component)]) await client.query(ddl)
        const {rows} = await client.query<{version: string}>(`SELECT version FROM "${component}".schema_migrations`)
        const done = new Set(rows.map((r) => r.version))
        for (const m of migrationFiles(component)) {
          if (done.has(m.version)) continue
          await client.query(m.sql)
          await client.query(`INSERT INTO "${component}".schema_migrations (version) VALUES ($1)`, [m.version])
          applied.push(`${component}/${m.version}`)
        }
        await client.query('COMMIT')
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {})
        throw error
      }
    }
  } finally {
    await client.end()
  }
  return applied
}

export const applyKafka = async (brokers: string[], topology: Topology): Promise<string[]> => {
  const {Kafka, logLevel} = await import('../../../services/shared/kafkajs.js')
  const admin = new Kafka({clientId: 'mm-topology', brokers, logLevel: logLevel.NOTHING}).admin()
  await admin.connect()
  try {
    const existing = new Set(await admin.listTopics())
    const wanted = topology.kafkaTopics.flatMap((t) => [t, {name: dlqOf(t.name), partitions: t.partitions}])
    const missing = wanted.filter((t) => !existing.has(t.name))
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((t) => ({topic: t.name, numPartitions: t.partitions, replicationFactor: 1})),
      })
    }
    return missing.map((t) => t.name)
  } finally {
    await admin.disconnect()
  }
}

export const applyRabbit = async (url: string, topology: Topology): Promise<string[]> => {
  const amqp = await import('amqplib')
  const conn = await amqp.connect(url)
  conn.on('error', () => {})
  try {
    const ch = await conn.createChannel()
    for (const ex of topology.rabbitExchanges) await ch.assertExchange(ex.name, ex.type, {durable: true})
    const declared: string[] = []
    for (const q of topology.rabbitQueues) {
      const dlx = dlxOf(q.name)
      await ch.assertExchange(dlx, 'fanout', {durable: true})
      await ch.assertQueue(dlqOf(q.name), {durable: true})
      await ch.bindQueue(dlqOf(q.name), dlx, '')
      await ch.assertQueue(q.name, {durable: true, deadLetterExchange: dlx})
      for (const b of q.bindings) await ch.bindQueue(q.name, b.exchange, b.routingKey)
      declared.push(q.name, dlqOf(q.name))
    }
    await ch.close()
    return declared
  } finally {
    await conn.close().catch(() => {})
  }
}

export const applyMongo = async (url: string, topology: Topology): Promise<string[]> => {
  const {MongoClient} = await import('mongodb')
  const client = new MongoClient(url, {directConnection: true})
  await client.connect()
  try {
    const db = client.db(topology.mongoDatabase)
    for (const idx of topology.mongoIndexes) {
      await db.collection(idx.collection).createIndex(idx.keys, {name: idx.name, unique: idx.unique ?? false})
    }
    return topology.mongoIndexes.map((i) => `${i.collection}.${i.name}`)
  } finally {
    await client.close()
  }
}
