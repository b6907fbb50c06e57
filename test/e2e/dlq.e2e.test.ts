import {chmodSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {join} from 'node:path'

import amqp from 'amqplib'
import {Kafka, logLevel} from 'kafkajs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {json, mm} from './cli.js'

// Under /tmp so the postgres user can reach the data directory.
const cwd = mkdtempSync('/tmp/mm-e2e-dlq-')
chmodSync(cwd, 0o755)
const servers = () => (JSON.parse(readFileSync(join(cwd, '.mm', 'state.json'), 'utf8')) as {servers: Record<string, {url: string}>}).servers

interface DlqList {
  dlqs: {name: string; broker: string; messages: number; topErrors: {errorClass: string; count: number}[]; error?: string}[]
  total: number
}
const countOf = async (name: string) => {
  const r = await mm(['dlq', 'list', '--json'], {cwd})
  expect(r.exitCode, r.stderr).toBe(0)
  return json<DlqList>(r).dlqs.find((d) => d.name === name)!
}

/**
 * The dlq commands through the built CLI against a native platform. Dead letters are written here
 * with the brokers' own clients, in the format services/shared writes them. Runners of the
 * platform may consume what a replay sends back (and dead-letter it again), so after a replay
 * only the command's own result is asserted.
 */
describe('mm dlq (built CLI, native platform)', () => {
  beforeAll(async () => {
    const r = await mm(['up', '--infra', 'native', '-d', '--json', '--http-port', '0'], {cwd})
    expect(r.exitCode, r.stderr).toBe(0)
  })

  afterAll(async () => {
    await mm(['down', '-v'], {cwd})
    rmSync(cwd, {recursive: true, force: true})
  })

  it('without a platform, says to start one', async () => {
    const empty = mkdtempSync('/tmp/mm-e2e-dlq-none-')
    const r = await mm(['dlq', 'list'], {cwd: empty})
    expect(r.exitCode).toBe(1)
    expect(r.stderr).toContain('mm up')
    rmSync(empty, {recursive: true, force: true})
  })

  it('list --json has every DLQ of both brokers, all empty on a fresh platform', async () => {
    const r = await mm(['dlq', 'list', '--json'], {cwd})
    expect(r.exitCode, r.stderr).toBe(0)
    const list = json<DlqList>(r)
    expect(list.dlqs).toHaveLength(13)
    expect(
      list.dlqs
        .filter((d) => d.broker === 'rabbitmq')
        .map((d) => d.name)
        .sort(),
    ).toEqual(['customer.order-events.dlq', 'pulses.dlq'])
    expect(list.dlqs.every((d) => !d.error)).toBe(true)
  })

  it('an unknown DLQ is a usage error (exit 2) naming the known ones', async () => {
    const r = await mm(['dlq', 'show', 'nope.dlq', '--json'], {cwd})
    expect(r.exitCode).toBe(2)
    expect(json<{error: {code: string; hint: string}}>(r).error).toMatchObject({code: 'usage', hint: expect.stringContaining('order.created.dlq')})
  })

  it('replay and purge without a terminal need --yes (exit 2), and change nothing', async () => {
    for (const action of ['replay', 'purge']) {
      const r = await mm(['dlq', action, 'pulses.dlq'], {cwd})
      expect(r.exitCode).toBe(2)
      expect(r.stderr).toContain('--yes')
      expect(r.stdout).toBe('')
    }
  })

  it('RabbitMQ: show, dry-run, purge', async () => {
    const conn = await amqp.connect(servers().rabbitmq!.url)
    try {
      const ch = await conn.createConfirmChannel()
      for (const id of ['p1', 'p2', 'p3'])
        ch.publish('', 'pulses.dlq', Buffer.from(`{"id":"${id}"}`), {
          messageId: id,
          headers: {'x-original-queue': 'pulses', 'x-error-class': 'ValidationError', 'x-error-message': 'bad pulse', 'x-attempts': 1},
        })
      await ch.waitForConfirms()
    } finally {
      await conn.close()
    }
    expect(await countOf('pulses.dlq')).toMatchObject({messages: 3, topErrors: [{errorClass: 'ValidationError', count: 3}]})

    const show = await mm(['dlq', 'show', 'pulses.dlq', '-n', '2', '--json'], {cwd})
    expect(show.exitCode, show.stderr).toBe(0)
    expect(json<{shown: number; items: {key: string}[]}>(show)).toMatchObject({shown: 2, items: [{key: 'p1'}, {key: 'p2'}]})
    const text = await mm(['dlq', 'show', 'pulses'], {cwd})
    expect(text.stdout).toContain('ValidationError: bad pulse')

    const dry = await mm(['dlq', 'replay', 'pulses.dlq', '--dry-run', '--json'], {cwd})
    expect(dry.exitCode, dry.stderr).toBe(0)
    expect(json(dry)).toMatchObject({dryRun: true, replayed: 3, skipped: 0})
    expect((await countOf('pulses.dlq')).messages).toBe(3)

    const purge = await mm(['dlq', 'purge', 'pulses.dlq', '--yes', '--json'], {cwd})
    expect(purge.exitCode, purge.stderr).toBe(0)
    expect(json(purge)).toMatchObject({purged: 3})
    expect((await countOf('pulses.dlq')).messages).toBe(0)
  })

  it('Kafka: show, replay --yes back to the original topic, purge', async () => {
    const kafka = new Kafka({clientId: 'e2e-dlq', brokers: [servers().kafka!.url], logLevel: logLevel.NOTHING})
    const producer = kafka.producer()
    await producer.connect()
    const headers = (id: string) => ({
      'event-id': id,
      'x-original-topic': 'customer.updated',
      'x-error-class': 'PoisonMessageError',
      'x-error-message': 'e2e',
      'x-attempts': '1',
      'x-failed-at': new Date().toISOString(),
    })
    try {
      await producer.send({
        topic: 'customer.updated.dlq',
        acks: -1,
        messages: ['k1', 'k2'].map((id) => ({key: id, value: `{"event_id":"${id}"}`, headers: headers(id)})),
      })
    } finally {
      await producer.disconnect()
    }
    expect(await countOf('customer.updated.dlq')).toMatchObject({messages: 2, topErrors: [{errorClass: 'PoisonMessageError', count: 2}]})
    const show = await mm(['dlq', 'show', 'customer.updated.dlq', '--json'], {cwd})
    expect(
      json<{items: {key: string}[]}>(show)
        .items.map((i) => i.key)
        .sort(),
    ).toEqual(['k1', 'k2'])

    const replay = await mm(['dlq', 'replay', 'customer.updated.dlq', '--yes', '--json'], {cwd})
    expect(replay.exitCode, replay.stderr).toBe(0)
    expect(json(replay)).toMatchObject({snapshot: 2, replayed: 2, skipped: 0, interrupted: false, destinations: {'customer.updated': 2}})

    const purge = await mm(['dlq', 'purge', 'customer.updated.dlq', '--yes', '--json'], {cwd})
    expect(purge.exitCode, purge.stderr).toBe(0)
  })
})
