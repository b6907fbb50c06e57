import pg from 'pg'
import type {Producer} from 'kafkajs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {createLogger} from '../../src/lib/logger.js'
import {createKafka} from '../../services/shared/kafka.js'
import {appendOutbox, startOutboxRelay} from '../../services/shared/outbox.js'
import {outboxTables} from '../../services/shared/tables.js'
import {eventually} from './harness.js'
import {isolatedEndpoints, uniqueName} from './isolation.js'

/**
 * The outbox relay against real PostgreSQL and Kafka. A relay wakes on NOTIFY and polls only as a
 * fallback (here once a minute, so a lost wake-up shows as a row left unpublished).
 */
const schema = 'relaytest'
let url: string
let db: pg.Pool
let producer: Producer
const abort = new AbortController()
let topic: string

const unpublished = async (): Promise<number> =>
  (await db.query<{n: number}>(`SELECT count(*)::int AS n FROM "${schema}".outbox WHERE published_at IS NULL`)).rows[0]!.n

const append = async (key: string): Promise<string> => {
  const client = await db.connect()
  try {
    await client.query('BEGIN')
    await appendOutbox(client, schema, [{destination: 'kafka', topic, key, value: JSON.stringify({key}), headers: {}}])
    const {rows} = await client.query<{id: string}>(`SELECT max(id)::text AS id FROM "${schema}".outbox`)
    await client.query('COMMIT')
    return rows[0]!.id
  } finally {
    client.release()
  }
}

beforeAll(async () => {
  const endpoints = await isolatedEndpoints('outbox-relay')
  url = endpoints.postgres
  db = new pg.Pool({connectionString: url, max: 4})
  await db.query(`CREATE SCHEMA ${schema}`)
  for (const ddl of outboxTables(schema)) await db.query(ddl)
  const logger = createLogger(() => {}, 'warn')
  const kafka = createKafka(endpoints.kafka, 'relay-test', logger)
  topic = uniqueName('relay')
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({topics: [{topic, numPartitions: 1}], waitForLeaders: true})
  await admin.disconnect()
  producer = kafka.producer()
  await producer.connect()
  startOutboxRelay({url, schema, producer, logger, pollMs: 60_000}, abort.signal)
  await append('warm-up')
  await eventually(async () => (await unpublished()) === 0, {what: 'the first row published'})
})

afterAll(async () => {
  abort.abort()
  await producer?.disconnect()
  await db?.end()
})

describe('outbox relay', () => {
  it('publishes a row committed while it was marking the previous batch (no lost wake-up)', async () => {
    // Hold the relay inside markDone: lock the row it is about to mark as published, and see its
    // UPDATE wait on that lock in pg_stat_activity (retry when the relay marked it first).
    const holder = await db.connect()
    try {
      let blocked = false
      for (let attempt = 0; attempt < 20 && !blocked; attempt++) {
        const id = await append(`a-${attempt}`)
        await holder.query('BEGIN')
        await holder.query(`SELECT id FROM "${schema}".outbox WHERE id = $1 FOR UPDATE`, [id])
        blocked = await eventually(
          async () =>
            (
              await db.query<{n: number}>(
                `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'UPDATE%outbox SET published_at%'`,
              )
            ).rows[0]!.n > 0,
          {timeoutMs: 2000, what: 'the relay waiting in markDone'},
        ).catch(() => false)
        if (!blocked) await holder.query('ROLLBACK')
      }
      expect(blocked, 'the relay never waited in markDone').toBe(true)
      // Committed (and notified) while the relay waits in markDone, with no wake-up armed yet.
      await append('b')
      await holder.query('COMMIT')
    } finally {
      holder.release()
    }
    // Without the fix this row waited for the one-minute fallback poll.
    await eventually(async () => (await unpublished()) === 0, {timeoutMs: 10_000, what: 'the row committed during markDone published'})
  })
})
