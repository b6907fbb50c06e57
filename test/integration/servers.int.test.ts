import amqp from 'amqplib'
import {Redis} from 'ioredis'
import {Kafka, logLevel} from 'kafkajs'
import {MongoClient} from 'mongodb'
import pg from 'pg'
import {beforeAll, describe, expect, it} from 'vitest'

import {isolatedEndpoints, pollGet, uniqueName} from './isolation.js'

/** Each of the five servers started by the native runtime takes a write and gives it back. */
describe('native servers answer the stack clients', () => {
  let e: Awaited<ReturnType<typeof isolatedEndpoints>>
  beforeAll(async () => {
    e = await isolatedEndpoints('servers')
  })

  it('PostgreSQL: insert and select through pg', async () => {
    const client = new pg.Client({connectionString: e.postgres})
    await client.connect()
    try {
      await client.query('CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL)')
      await client.query('INSERT INTO notes (body) VALUES ($1), ($2)', ['olá', 'mundo:1'])
      const {rows} = await client.query<{body: string}>('SELECT body FROM notes ORDER BY id')
      expect(rows.map((r) => r.body)).toEqual(['olá', 'mundo:1'])
    } finally {
      await client.end()
    }
  })

  it('Redis: set, incrbyfloat and get through ioredis', async () => {
    const redis = new Redis(e.redis)
    try {
      const key = uniqueName('k')
      await redis.set(key, 'v1')
      expect(await redis.get(key)).toBe('v1')
      await redis.hincrby(`${key}:h`, 'n', 5)
      expect(await redis.hget(`${key}:h`, 'n')).toBe('5')
    } finally {
      redis.disconnect()
    }
  })

  it('RabbitMQ: publish with confirms and consume through amqplib', async () => {
    const conn = await amqp.connect(e.rabbitmq)
    try {
      const ch = await conn.createConfirmChannel()
      const queue = uniqueName('q')
      await ch.assertQueue(queue, {durable: false, autoDelete: false})
      ch.sendToQueue(queue, Buffer.from('{"n":1}'), {messageId: 'm-1'})
      await ch.waitForConfirms()
      const msg = await pollGet(ch, queue)
      expect(msg.content.toString()).toBe('{"n":1}')
      expect(msg.properties.messageId).toBe('m-1')
      ch.ack(msg)
      await ch.deleteQueue(queue)
    } finally {
      await conn.close()
    }
  })

  it('Kafka: create a topic, produce and consume in a group through kafkajs', async () => {
    const kafka = new Kafka({clientId: 'it', brokers: e.kafka, logLevel: logLevel.NOTHING})
    const topic = uniqueName('topic')
    const admin = kafka.admin()
    await admin.connect()
    await admin.createTopics({waitForLeaders: true, topics: [{topic, numPartitions: 1}]})
    await admin.disconnect()
    const producer = kafka.producer()
    await producer.connect()
    await producer.send({topic, messages: [{key: 'a', value: 'hello', headers: {'event-type': 'test'}}]})
    await producer.disconnect()
    const consumer = kafka.consumer({groupId: uniqueName('group')})
    await consumer.connect()
    await consumer.subscribe({topic, fromBeginning: true})
    const got = await new Promise<{key?: string; value?: string; header?: string}>((resolve) => {
      void consumer.run({
        eachMessage: async ({message}) =>
          resolve({key: message.key?.toString(), value: message.value?.toString(), header: message.headers?.['event-type']?.toString()}),
      })
    })
    await consumer.disconnect()
    expect(got).toEqual({key: 'a', value: 'hello', header: 'test'})
  })

  it('MongoDB-compatible server: insert, index and aggregate through mongodb', async () => {
    const client = new MongoClient(e.mongo, {directConnection: true})
    await client.connect()
    try {
      const db = client.db(e.name)
      const col = db.collection<{sku: string; qty: number}>('items')
      await col.createIndex({sku: 1}, {unique: true})
      await col.insertMany([
        {sku: 'a', qty: 2},
        {sku: 'b', qty: 3},
      ])
      await expect(col.insertOne({sku: 'a', qty: 1})).rejects.toMatchObject({code: 11000})
      const [total] = await col.aggregate<{total: number}>([{$group: {_id: null, total: {$sum: '$qty'}}}]).toArray()
      expect(total?.total).toBe(5)
    } finally {
      await client.close()
    }
  })
})
