import amqp from 'amqplib'
import {Kafka, logLevel} from 'kafkajs'
import {MongoClient} from 'mongodb'
import pg from 'pg'
import {beforeAll, describe, expect, it} from 'vitest'

import {applyKafka, applyMigrations, applyMongo, applyRabbit, applyTopology} from '../../src/infra/topology/apply.js'
import {dlqOf, type Topology} from '../../src/infra/topology/spec.js'
import {silentLogger} from '../../src/lib/logger.js'
import {isolatedEndpoints, pollGet, uniqueName} from './isolation.js'

describe('topology and migrations are applied idempotently', () => {
  let e: Awaited<ReturnType<typeof isolatedEndpoints>>
  let topology: Topology
  beforeAll(async () => {
    e = await isolatedEndpoints('topology')
    const exchange = uniqueName('events')
    topology = {
      kafkaTopics: [{name: uniqueName('order.created'), partitions: 2}],
      rabbitExchanges: [{name: exchange, type: 'topic'}],
      rabbitQueues: [{name: uniqueName('pulses'), bindings: [{exchange, routingKey: 'order.created'}]}],
      mongoDatabase: e.name,
      mongoIndexes: [{collection: 'orders_view', keys: {'customer.id': 1, created_at: -1}, name: 'by_customer_newest'}],
      migrations: ['ingest'],
    }
  })

  it('applies everything once, and a second run changes nothing', async () => {
    const first = await applyTopology(e, topology, silentLogger)
    expect(first.migrationsApplied).toEqual(['ingest/001_pulses', 'ingest/002_flush_ledger'])
    expect(first.kafkaTopicsCreated.sort()).toEqual([topology.kafkaTopics[0]!.name, dlqOf(topology.kafkaTopics[0]!.name)].sort())
    const second = await applyTopology(e, topology, silentLogger)
    expect(second.migrationsApplied).toEqual([])
    expect(second.kafkaTopicsCreated).toEqual([])
  })

  it('creates the migrated table and its ledger', async () => {
    const client = new pg.Client({connectionString: e.postgres})
    await client.connect()
    try {
      await client.query("INSERT INTO ingest.pulses (tenant, product_sku, use_unity, used_amount) VALUES ('t', 's', 'u', 0.1)")
      await expect(client.query("INSERT INTO ingest.pulses (tenant, product_sku, use_unity) VALUES ('t', 's', 'u')")).rejects.toMatchObject({code: '23505'})
      const {rows} = await client.query('SELECT version FROM ingest.schema_migrations ORDER BY version')
      expect(rows).toEqual([{version: '001_pulses'}, {version: '002_flush_ledger'}])
    } finally {
      await client.end()
    }
  })

  it('two concurrent migration runs apply each migration exactly once', async () => {
    const other = await isolatedEndpoints('migrations-race')
    const results = await Promise.all([applyMigrations(other.postgres, ['ingest'], silentLogger), applyMigrations(other.postgres, ['ingest'], silentLogger)])
    expect(results.flat().sort()).toEqual(['ingest/001_pulses', 'ingest/002_flush_ledger'])
  })

  it('creates each Kafka topic with its .dlq twin and the asked partitions', async () => {
    const admin = new Kafka({clientId: 'it', brokers: e.kafka, logLevel: logLevel.NOTHING}).admin()
    await admin.connect()
    try {
      const name = topology.kafkaTopics[0]!.name
      const meta = await admin.fetchTopicMetadata({topics: [name, dlqOf(name)]})
      expect(meta.topics.map((t) => [t.name, t.partitions.length]).sort()).toEqual(
        [
          [name, 2],
          [dlqOf(name), 2],
        ].sort(),
      )
    } finally {
      await admin.disconnect()
    }
    expect(await applyKafka(e.kafka, topology)).toEqual([])
  })

  it('dead-letters a rejected RabbitMQ message into <queue>.dlq', async () => {
    const queue = topology.rabbitQueues[0]!.name
    const conn = await amqp.connect(e.rabbitmq)
    try {
      const ch = await conn.createConfirmChannel()
      ch.publish(topology.rabbitExchanges[0]!.name, 'order.created', Buffer.from('poison'), {messageId: 'p-1'})
      await ch.waitForConfirms()
      const msg = await pollGet(ch, queue)
      ch.nack(msg, false, false)
      const dead = await pollGet(ch, dlqOf(queue))
      expect(dead.content.toString()).toBe('poison')
      expect(dead.properties.messageId).toBe('p-1')
      expect(dead.properties.headers?.['x-death']?.[0]?.queue).toBe(queue)
      ch.ack(dead)
    } finally {
      await conn.close()
    }
    expect(await applyRabbit(e.rabbitmq, topology)).toEqual([queue, dlqOf(queue)])
  })

  it('creates the MongoDB indexes', async () => {
    expect(await applyMongo(e.mongo, topology)).toEqual(['orders_view.by_customer_newest'])
    const client = new MongoClient(e.mongo, {directConnection: true})
    await client.connect()
    try {
      const names = (await client.db(e.name).collection('orders_view').listIndexes().toArray()).map((i) => i.name)
      expect(names).toContain('by_customer_newest')
    } finally {
      await client.close()
    }
  })
})
