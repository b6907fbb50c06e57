import {randomBytes} from 'node:crypto'

import type amqp from 'amqplib'
import pg from 'pg'
import {inject} from 'vitest'

import type {Endpoints} from '../../src/infra/types.js'

/** A name unique to this test file and run, safe for databases, topics and queues. */
export const uniqueName = (label: string): string => `t_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`

/** The servers of this run, with a PostgreSQL database and a Mongo database of this file's own. */
export const isolatedEndpoints = async (label: string): Promise<Endpoints & {name: string}> => {
  const endpoints = inject('endpoints')
  const name = uniqueName(label)
  const admin = new pg.Client({connectionString: endpoints.postgres})
  await admin.connect()
  try {
    await admin.query(`CREATE DATABASE "${name}"`)
  } finally {
    await admin.end()
  }
  const pgUrl = new URL(endpoints.postgres)
  pgUrl.pathname = `/${name}`
  const mongoUrl = new URL(endpoints.mongo)
  return {...endpoints, postgres: pgUrl.toString(), mongo: mongoUrl.toString(), name}
}

/** The next message of a queue (without acking it), polling until a deadline. */
export const pollGet = async (ch: amqp.Channel, queue: string, timeoutMs = 10_000): Promise<amqp.GetMessage> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const msg = await ch.get(queue, {noAck: false})
    if (msg) return msg
    if (Date.now() > deadline) throw new Error(`no message on ${queue} within ${timeoutMs}ms`)
    await new Promise((r) => setTimeout(r, 50))
  }
}
