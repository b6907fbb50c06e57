import {randomUUID} from 'node:crypto'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'

import amqp from 'amqplib'
import {execa} from 'execa'
import {type Admin, type IHeaders, Kafka, type KafkaMessage, logLevel, type Producer} from 'kafkajs'
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest'

import {PoisonMessageError} from '../../services/shared/errors.js'
import {createKafka, startKafkaConsumer} from '../../services/shared/kafka.js'
import {applyKafka, applyRabbit} from '../../src/infra/topology/apply.js'
import {type Namespace, namespacedTopology, prefixNamespace, TOPOLOGY, type Topology} from '../../src/infra/topology/spec.js'
import {createLogger, fileSink} from '../../src/lib/logger.js'
import {type DlqDeps, type DlqPlan, listDlqs, purgeDlq, replayDlq, replayGroupOf, showDlq} from '../../src/operations/dlq/index.js'
import {eventually} from './harness.js'
import {uniqueName} from './isolation.js'

const ROOT = join(import.meta.dirname, '..', '..')
const endpoints = inject('endpoints')
const logDir = join(inject('dataDir'), 'logs')
mkdirSync(logDir, {recursive: true})
const logger = createLogger(fileSink(join(logDir, `dlq-${randomUUID().slice(0, 8)}.log`)), 'debug')

const kafka = new Kafka({clientId: 'it-dlq', brokers: endpoints.kafka, logLevel: logLevel.NOTHING})
let admin: Admin
let producer: Producer
let conn: amqp.ChannelModel
let ch: amqp.ConfirmChannel

beforeAll(async () => {
  admin = kafka.admin()
  producer = kafka.producer({idempotent: true})
  await Promise.all([admin.connect(), producer.connect()])
  conn = await amqp.connect(endpoints.rabbitmq)
  conn.on('error', () => {})
  ch = await conn.createConfirmChannel()
  ch.on('error', () => {})
})

afterAll(async () => {
  await Promise.all([admin?.disconnect(), producer?.disconnect(), conn?.close().catch(() => {})])
})

interface Fixture {
  ns: Namespace
  prefix: string
  topology: Topology
  deps: DlqDeps
}

/** A fresh namespace per test: one Kafka topic (3 partitions) or one RabbitMQ queue, with its DLQ. */
const fresh = async (label: string, broker: 'kafka' | 'rabbitmq'): Promise<Fixture & {topic: string; dlq: string}> => {
  const prefix = `${uniqueName(label)}_`
  const ns = prefixNamespace(prefix)
  const topology: Topology = {
    ...TOPOLOGY,
    kafkaTopics: broker === 'kafka' ? [{name: 'order.created', partitions: 3}] : [],
    rabbitExchanges: broker === 'rabbitmq' ? [{name: 'events', type: 'topic'}] : [],
    rabbitQueues: broker === 'rabbitmq' ? [{name: 'customer.order-events', bindings: [{exchange: 'events', routingKey: 'order.created'}]}] : [],
  }
  const applied = namespacedTopology(topology, ns)
  if (broker === 'kafka') await applyKafka(endpoints.kafka, applied)
  else await applyRabbit(endpoints.rabbitmq, applied)
  const topic = broker === 'kafka' ? ns('order.created') : ns('customer.order-events')
  return {ns, prefix, topology, topic, dlq: `${topic}.dlq`, deps: {endpoints, ns, logger, topology}}
}

const countOf = async (f: Fixture, dlq: string) => (await listDlqs(f.deps)).dlqs.find((d) => d.name === dlq)!

// ---------------------------------------------------------------------------------------------
// Kafka

interface DeadLetter {
  id: string
  key?: string | null
  value?: Buffer
  replayCount?: string
  errorClass?: string
}

/** Dead letters as services/shared/kafka.ts writes them, spread over the DLQ partitions. */
const kafkaDeadLetters = (topic: string, items: DeadLetter[]) =>
  items.map((it, i) => {
    const headers: Record<string, Buffer | string> = {
      'event-type': 'order.created',
      'event-id': it.id,
      binary: Buffer.from([0xff, 0x00, 0x80, i]),
      'x-original-topic': topic,
      'x-original-partition': String((i + 1) % 3),
      'x-original-offset': String(100 + i),
      ...(it.replayCount === undefined ? {} : {'x-replay-count': it.replayCount}),
      'x-error-class': it.errorClass ?? 'ValidationError',
      'x-error-message': `bad ${it.id}`,
      'x-attempts': '6',
      'x-failed-at': new Date().toISOString(),
    }
    return {
      key: it.key === null ? null : Buffer.from(it.key ?? `key-${it.id}`),
      value: it.value ?? Buffer.from(JSON.stringify({event_id: it.id})),
      partition: i % 3,
      headers,
    }
  })

const deadLetterKafka = async (f: {topic: string; dlq: string}, items: DeadLetter[]) => {
  const messages = kafkaDeadLetters(f.topic, items)
  await producer.send({topic: f.dlq, acks: -1, messages})
  return messages
}

const ids = (n: number, prefix = 'e') => Array.from({length: n}, (_, i) => ({id: `${prefix}-${i}`}))

/** Reads a whole topic (read_committed unless asked) with a group of its own, independent of the code under test. */
const readTopic = async (topic: string, {readUncommitted = false} = {}): Promise<{partition: number; message: KafkaMessage}[]> => {
  const offsets = await admin.fetchTopicOffsets(topic)
  const target = new Map(offsets.map((o) => [o.partition, BigInt(o.high)]))
  const position = new Map(offsets.map((o) => [o.partition, BigInt(o.low)]))
  if (offsets.every((o) => o.high === o.low)) return []
  const out: {partition: number; message: KafkaMessage}[] = []
  const groupId = `it-read-${randomUUID()}`
  const consumer = kafka.consumer({groupId, readUncommitted, maxWaitTimeInMs: 100})
  await consumer.connect()
  try {
    await consumer.subscribe({topics: [topic], fromBeginning: true})
    consumer.on(consumer.events.END_BATCH_PROCESS, ({payload}) => {
      const next = BigInt(payload.lastOffset) + 1n
      if (next > position.get(payload.partition)!) position.set(payload.partition, next)
    })
    await consumer.run({
      eachMessage: async ({partition, message}) => {
        out.push({partition, message})
      },
    })
    await eventually(async () => [...target].every(([p, end]) => position.get(p)! >= end), {timeoutMs: 30_000, what: `reading ${topic}`})
  } finally {
    await consumer.disconnect()
    await admin.deleteGroups([groupId]).catch(() => {})
  }
  return out
}

const eventIds = (messages: {message: KafkaMessage}[]) => messages.map((m) => (JSON.parse(m.message.value!.toString()) as {event_id: string}).event_id)
const sameBytes = (a: IHeaders[string], b: Buffer | string) => Buffer.isBuffer(a) && Buffer.compare(a, Buffer.from(b)) === 0

describe('mm dlq on Kafka', () => {
  it('replays to the original topic and partition with key, value and headers byte-for-byte, stamping x-replay-count', async () => {
    const f = await fresh('dlq-k-bytes', 'kafka')
    const sent = await deadLetterKafka(f, [{id: 'a'}, {id: 'b', key: null, value: Buffer.from([0xc3, 0x28, 0x00])}, {id: 'c', replayCount: '1'}, {id: 'd'}])
    const result = await replayDlq({...f.deps, dlq: f.dlq, maxReplays: 3})
    expect(result).toMatchObject({snapshot: 4, replayed: 4, skipped: 0, interrupted: false, destinations: {[f.topic]: 4}})

    const replayed = await readTopic(f.topic)
    expect(replayed).toHaveLength(4)
    for (const [i, original] of sent.entries()) {
      const got = replayed.find((r) => sameBytes(r.message.headers!['event-id'], original.headers['event-id']!))!
      expect(got, `message ${i}`).toBeDefined()
      expect(got.partition).toBe((i + 1) % 3) // x-original-partition
      expect(got.message.key === null ? null : Buffer.compare(got.message.key, original.key!)).toBe(original.key === null ? null : 0)
      expect(Buffer.compare(got.message.value!, original.value)).toBe(0)
      const expectedOrder =
        original.headers['x-replay-count'] === undefined ? [...Object.keys(original.headers), 'x-replay-count'] : Object.keys(original.headers)
      expect(Object.keys(got.message.headers!)).toEqual(expectedOrder)
      for (const [k, v] of Object.entries(original.headers)) if (k !== 'x-replay-count') expect(sameBytes(got.message.headers![k], v), `header ${k}`).toBe(true)
      expect(got.message.headers!['x-replay-count']!.toString()).toBe(original.headers['x-replay-count'] === undefined ? '1' : '2')
    }
    expect((await countOf(f, f.dlq)).messages).toBe(0)
  })

  it('replays a message that two consumer groups dead-lettered once, so the DLQ does not double per replay', async () => {
    const f = await fresh('dlq-k-groups', 'kafka')
    // One message of the topic failed in two groups (two copies), another in one.
    const [first, second] = kafkaDeadLetters(f.topic, [{id: 'x'}, {id: 'y'}])
    const copy = (m: typeof first, group: string) => ({...m!, partition: 0, headers: {...m!.headers, 'x-consumer-group': group}})
    await producer.send({topic: f.dlq, acks: -1, messages: [copy(first, 'product'), copy(first, 'query'), copy(second, 'query')]})

    expect((await showDlq({...f.deps, dlq: f.dlq, limit: 5})).items.map((m) => m.original.group)).toEqual(['product', 'query', 'query'])
    expect(await replayDlq({...f.deps, dlq: f.dlq, maxReplays: 3, dryRun: true})).toMatchObject({replayed: 2, duplicates: 1, skipped: 0})
    expect(await replayDlq({...f.deps, dlq: f.dlq, maxReplays: 3})).toMatchObject({snapshot: 3, replayed: 2, duplicates: 1, skipped: 0})
    expect(eventIds(await readTopic(f.topic)).sort()).toEqual(['x', 'y'])
    expect((await countOf(f, f.dlq)).messages).toBe(0)
  })

  it('show and list read without committing or consuming, and leave no consumer group behind', async () => {
    const f = await fresh('dlq-k-show', 'kafka')
    await deadLetterKafka(f, [{id: 'a', errorClass: 'SyntaxError'}, {id: 'b'}, {id: 'c'}, {id: 'd', errorClass: 'SyntaxError'}, {id: 'e'}])
    const before = await countOf(f, f.dlq)
    expect(before).toMatchObject({
      messages: 5,
      approximate: false,
      scanned: 5,
      topErrors: [
        {errorClass: 'ValidationError', count: 3},
        {errorClass: 'SyntaxError', count: 2},
      ],
    })

    const shown = await showDlq({...f.deps, dlq: f.dlq, limit: 2})
    expect(shown).toMatchObject({messages: 5, shown: 2})
    expect(shown.items[0]).toMatchObject({error: {errorClass: expect.any(String), attempts: 6}, original: {topic: f.topic}, replayCount: 0})
    const all = await showDlq({...f.deps, dlq: f.dlq, limit: 20})
    expect(all.items.map((m) => m.headers['event-id']).sort()).toEqual(['a', 'b', 'c', 'd', 'e'])
    expect(all.items.find((m) => m.headers['event-id'] === 'a')).toMatchObject({
      key: 'key-a',
      value: '{"event_id":"a"}',
      valueEncoding: 'utf8',
      error: {errorClass: 'SyntaxError', message: 'bad a'},
    })

    expect((await countOf(f, f.dlq)).messages).toBe(5)
    const committed = await admin.fetchOffsets({groupId: replayGroupOf({base: 'order.created.dlq'}, f.ns), topics: [f.dlq]})
    expect(committed[0]!.partitions.every((p) => p.offset === '-1')).toBe(true)
    const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(f.prefix))
    expect(groups).toEqual([])
  })

  it('--dry-run counts what would be replayed and skipped and changes nothing', async () => {
    const f = await fresh('dlq-k-dry', 'kafka')
    await deadLetterKafka(f, [{id: 'a'}, {id: 'b', replayCount: '3'}, {id: 'c'}])
    const dry = await replayDlq({...f.deps, dlq: f.dlq, maxReplays: 3, dryRun: true})
    expect(dry).toMatchObject({dryRun: true, snapshot: 3, replayed: 2, skipped: 1, scanned: 3})
    expect((await countOf(f, f.dlq)).messages).toBe(3)
    expect(await readTopic(f.topic)).toEqual([])
    const purgeDry = await purgeDlq({...f.deps, dlq: f.dlq, dryRun: true})
    expect(purgeDry).toMatchObject({dryRun: true, purged: 3})
    const declined = await replayDlq({
      ...f.deps,
      dlq: f.dlq,
      maxReplays: 3,
      confirm: async (plan) => (expect(plan).toMatchObject({action: 'replay', snapshot: 3, count: 3}), false),
    })
    expect(declined).toMatchObject({declined: true, replayed: 0})
    expect((await countOf(f, f.dlq)).messages).toBe(3)
    expect(await readTopic(f.topic)).toEqual([])
  })

  it('a replay interrupted midway and run again delivers every message exactly once', async () => {
    const f = await fresh('dlq-k-abort', 'kafka')
    await deadLetterKafka(f, ids(60))
    const controller = new AbortController()
    const first = await replayDlq({...f.deps, dlq: f.dlq, maxReplays: 3, rate: 30, signal: controller.signal, onProgress: () => controller.abort()})
    expect(first.interrupted).toBe(true)
    expect(first.replayed).toBeGreaterThan(0)
    expect(first.replayed).toBeLessThan(60)
    expect((await countOf(f, f.dlq)).messages).toBe(60 - first.replayed)

    const second = await replayDlq({...f.deps, dlq: f.dlq, maxReplays: 3})
    expect(first.replayed + second.replayed).toBe(60)
    const got = eventIds(await readTopic(f.topic))
    expect(got).toHaveLength(60)
    expect(new Set(got).size).toBe(60)
    expect((await countOf(f, f.dlq)).messages).toBe(0)
  })

  it('a replay killed inside a transaction and run again delivers every message exactly once', {timeout: 180_000}, async () => {
    const f = await fresh('dlq-k-kill', 'kafka')
    await deadLetterKafka(f, ids(90))
    // A child process replays, and hangs its second commit (messages and offsets sent, not committed): then SIGKILL.
    const dir = mkdtempSync(join(tmpdir(), 'mm-it-dlq-'))
    const script = join(dir, 'replay-and-hang.mjs')
    const src = (p: string) => JSON.stringify(pathToFileURL(join(ROOT, p)).href)
    writeFileSync(
      script,
      `import {createRequire} from 'node:module'
const {Kafka} = createRequire(${JSON.stringify(join(ROOT, 'package.json'))})('kafkajs')
const producer = Kafka.prototype.producer
let commits = 0
Kafka.prototype.producer = function (...args) {
  const p = producer.apply(this, args)
  const transaction = p.transaction
  p.transaction = async () => {
    const t = await transaction()
    const commit = t.commit
    t.commit = async () => {
      if (++commits > 1) { process.stdout.write('HANGING\\n'); return new Promise(() => {}) }
      return commit()
    }
    return t
  }
  return p
}
const {replayDlq} = await import(${src('src/operations/dlq/index.ts')})
const {prefixNamespace} = await import(${src('src/infra/topology/spec.ts')})
const {silentLogger} = await import(${src('src/lib/logger.ts')})
const a = JSON.parse(process.argv[2])
await replayDlq({endpoints: a.endpoints, ns: prefixNamespace(a.prefix), topology: a.topology, logger: silentLogger, dlq: a.dlq, maxReplays: 3})
process.stdout.write('FINISHED\\n')
`,
    )
    const child = execa(process.execPath, ['--import', 'tsx', script, JSON.stringify({endpoints, prefix: f.prefix, topology: f.topology, dlq: f.dlq})], {
      cwd: ROOT,
      reject: false,
      timeout: 120_000,
    })
    let out = ''
    let err = ''
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()))
    await eventually(async () => out.includes('HANGING') || out.includes('FINISHED') || child.exitCode !== null, {
      timeoutMs: 120_000,
      what: 'the child replay to hang',
    })
    expect(out, err).toContain('HANGING')
    child.kill('SIGKILL')
    await child
    rmSync(dir, {recursive: true, force: true})

    const committedBefore = eventIds(await readTopic(f.topic))
    expect(committedBefore.length).toBeGreaterThan(0)
    expect(committedBefore.length).toBeLessThan(90)

    const again = await replayDlq({...f.deps, dlq: f.dlq, maxReplays: 3})
    expect(committedBefore.length + again.replayed).toBe(90)
    const got = eventIds(await readTopic(f.topic))
    expect(got).toHaveLength(90)
    expect(new Set(got).size).toBe(90)
    // The hung transaction's messages are in the log, aborted: a read_uncommitted reader sees more.
    expect((await readTopic(f.topic, {readUncommitted: true})).length).toBeGreaterThan(90)
    expect((await countOf(f, f.dlq)).messages).toBe(0)
  })

  it('a message whose x-original-topic does not exist fails the replay and commits nothing of its batch', async () => {
    const f = await fresh('dlq-k-missing', 'kafka')
    const [good, bad] = kafkaDeadLetters(f.topic, [{id: 'good'}, {id: 'bad'}])
    await producer.send({
      topic: f.dlq,
      acks: -1,
      messages: [
        {...good!, partition: 0},
        {...bad!, partition: 0, headers: {...bad!.headers, 'x-original-topic': f.ns('no.such.topic')}},
      ],
    })
    await expect(replayDlq({...f.deps, dlq: f.dlq, maxReplays: 3})).rejects.toThrow(/no\.such\.topic" of a message in .* does not exist/)
    expect((await countOf(f, f.dlq)).messages).toBe(2)
    expect(await readTopic(f.topic)).toEqual([])
  })

  it('list marks a DLQ topic that does not exist instead of failing, and show says so', async () => {
    const f = await fresh('dlq-k-partial', 'kafka')
    await deadLetterKafka(f, ids(1))
    const topology = {...f.topology, kafkaTopics: [...f.topology.kafkaTopics, {name: 'never.created', partitions: 1}]}
    const list = await listDlqs({...f.deps, topology})
    expect(list.dlqs.find((d) => d.name === f.dlq)).toMatchObject({messages: 1})
    expect(list.dlqs.find((d) => d.name === f.ns('never.created.dlq'))).toMatchObject({messages: 0, error: expect.stringContaining('does not exist')})
    await expect(showDlq({...f.deps, topology, dlq: f.ns('never.created.dlq'), limit: 1})).rejects.toThrow(/does not exist/)
  })

  it('keeps to the snapshot: messages dead-lettered during the replay wait for the next one', async () => {
    const f = await fresh('dlq-k-snap', 'kafka')
    await deadLetterKafka(f, ids(45))
    let late: Promise<unknown> | undefined
    const result = await replayDlq({...f.deps, dlq: f.dlq, maxReplays: 3, rate: 45, onProgress: () => (late ??= deadLetterKafka(f, ids(10, 'late')))})
    await late
    expect(late).toBeDefined()
    expect(result).toMatchObject({snapshot: 45, replayed: 45})
    const got = eventIds(await readTopic(f.topic))
    expect(got.filter((id) => id.startsWith('late'))).toEqual([])
    expect(got).toHaveLength(45)
    expect(await countOf(f, f.dlq)).toMatchObject({messages: 10, approximate: false})
  })

  it('loop guard: a message at --max-replays is skipped and stays visible in the DLQ', async () => {
    const f = await fresh('dlq-k-loop', 'kafka')
    await deadLetterKafka(f, [{id: 'a'}, {id: 'tired', replayCount: '3'}, {id: 'b', replayCount: '2'}])
    const result = await replayDlq({...f.deps, dlq: f.dlq, maxReplays: 3})
    expect(result).toMatchObject({replayed: 2, skipped: 1})
    expect(eventIds(await readTopic(f.topic)).sort()).toEqual(['a', 'b'])
    expect(await countOf(f, f.dlq)).toMatchObject({messages: 1, approximate: false})
    const shown = await showDlq({...f.deps, dlq: f.dlq, limit: 5})
    expect(shown.items).toHaveLength(1)
    expect(shown.items[0]).toMatchObject({
      key: 'key-tired',
      value: '{"event_id":"tired"}',
      replayCount: 3,
      error: {errorClass: 'ValidationError', message: 'bad tired'},
    })
    expect(shown.items[0]!.headers.binary).toBe(Buffer.from([0xff, 0x00, 0x80, 1]).toString('utf8'))

    // The parked message left a transaction marker behind it: a person is asked with the exact count.
    let asked: DlqPlan | undefined
    await replayDlq({...f.deps, dlq: f.dlq, maxReplays: 3, confirm: async (plan) => ((asked = plan), false)})
    expect(asked).toMatchObject({snapshot: 1, count: 1, approximate: false})
    const again = await replayDlq({...f.deps, dlq: f.dlq, maxReplays: 3})
    expect(again).toMatchObject({replayed: 0, skipped: 1})
    expect((await countOf(f, f.dlq)).messages).toBe(1)
    expect(await replayDlq({...f.deps, dlq: f.dlq, maxReplays: 4})).toMatchObject({replayed: 1, skipped: 0})
    expect((await countOf(f, f.dlq)).messages).toBe(0)
  })

  it('round trip with the real consumer: dead-lettered, replayed, handled; failing again, it stops at --max-replays', async () => {
    const f = await fresh('dlq-k-real', 'kafka')
    const failing = new Set(['e2', 'e4'])
    const handled: string[] = []
    const controller = new AbortController()
    const dlProducer = kafka.producer()
    await dlProducer.connect()
    const {stopped} = await startKafkaConsumer(
      {
        kafka: createKafka(endpoints.kafka, 'it-dlq-consumer', logger),
        groupId: f.ns('it-consumer'),
        topics: [f.topic],
        handle: async ({message}) => {
          const id = (JSON.parse(message.value!.toString()) as {event_id: string}).event_id
          if (failing.has(id)) throw new PoisonMessageError(`cannot handle ${id}`)
          handled.push(id)
        },
        backoffMs: [],
        producer: dlProducer,
        logger,
        stats: {handled: 0, failed: 0, retried: 0, deadLettered: 0},
      },
      controller.signal,
    )
    try {
      await producer.send({
        topic: f.topic,
        messages: ['e1', 'e2', 'e3', 'e4'].map((id) => ({key: id, value: JSON.stringify({event_id: id}), headers: {'event-id': id}})),
      })
      await eventually(async () => (await countOf(f, f.dlq)).messages === 2 && handled.length === 2, {what: 'two dead letters'})
      expect((await countOf(f, f.dlq)).topErrors).toEqual([{errorClass: 'PoisonMessageError', count: 2}])

      failing.delete('e2')
      expect(await replayDlq({...f.deps, dlq: f.dlq, maxReplays: 1})).toMatchObject({replayed: 2, skipped: 0})
      await eventually(async () => handled.includes('e2'), {what: 'e2 handled after the replay'})
      // e4 failed again: back in the DLQ with x-replay-count 1, which --max-replays 1 leaves there.
      await eventually(async () => (await countOf(f, f.dlq)).messages === 1, {what: 'e4 dead-lettered again'})
      const shown = await showDlq({...f.deps, dlq: f.dlq, limit: 5})
      expect(shown.items[0]).toMatchObject({key: 'e4', replayCount: 1, error: {errorClass: 'PoisonMessageError'}, original: {topic: f.topic}})
      expect(await replayDlq({...f.deps, dlq: f.dlq, maxReplays: 1})).toMatchObject({replayed: 0, skipped: 1})
      expect((await countOf(f, f.dlq)).messages).toBe(1)
    } finally {
      controller.abort()
      await stopped
      await dlProducer.disconnect()
    }
  })

  it('purge moves past every message present (dry run and a declined purge change nothing)', async () => {
    const f = await fresh('dlq-k-purge', 'kafka')
    await deadLetterKafka(f, ids(7))
    expect(await purgeDlq({...f.deps, dlq: f.dlq, dryRun: true})).toMatchObject({purged: 7, dryRun: true})
    expect(await purgeDlq({...f.deps, dlq: f.dlq, confirm: async () => false})).toMatchObject({purged: 0, declined: true})
    expect((await countOf(f, f.dlq)).messages).toBe(7)
    expect(await purgeDlq({...f.deps, dlq: f.dlq})).toMatchObject({purged: 7, approximate: false})
    expect((await countOf(f, f.dlq)).messages).toBe(0)
    expect((await showDlq({...f.deps, dlq: f.dlq, limit: 5})).items).toEqual([])
    await deadLetterKafka(f, ids(2, 'new'))
    expect((await countOf(f, f.dlq)).messages).toBe(2)
    expect(await replayDlq({...f.deps, dlq: f.dlq, maxReplays: 3})).toMatchObject({replayed: 2})
    expect(eventIds(await readTopic(f.topic)).sort()).toEqual(['new-0', 'new-1'])
  })
})

// ---------------------------------------------------------------------------------------------
// RabbitMQ

const publishDeadLetters = async (f: {topic: string; dlq: string; ns: Namespace}, items: DeadLetter[]) => {
  for (const it of items) {
    ch.publish('', f.dlq, it.value ?? Buffer.from(JSON.stringify({event_id: it.id})), {
      messageId: it.id,
      contentType: 'application/json',
      correlationId: `c-${it.id}`,
      appId: 'it',
      type: 'order.created',
      timestamp: 1_700_000_000,
      persistent: true,
      headers: {
        'event-id': it.id,
        custom: 'kept',
        number: 42,
        'x-original-queue': f.topic,
        'x-original-exchange': f.ns('events'),
        'x-original-routing-key': 'order.created',
        'x-error-class': it.errorClass ?? 'ValidationError',
        'x-error-message': `bad ${it.id}`,
        'x-attempts': 6,
        'x-failed-at': new Date().toISOString(),
        ...(it.replayCount === undefined ? {} : {'x-replay-count': Number(it.replayCount)}),
      },
    })
  }
  await ch.waitForConfirms()
}

const drain = async (queue: string): Promise<amqp.GetMessage[]> => {
  const out: amqp.GetMessage[] = []
  for (;;) {
    const m = await ch.get(queue, {noAck: true})
    if (!m) return out
    out.push(m)
  }
}
const depth = async (queue: string) => (await ch.checkQueue(queue)).messageCount

describe('mm dlq on RabbitMQ', () => {
  it('replays to the original queue with properties and headers kept plus x-replay-count', async () => {
    const f = await fresh('dlq-r-bytes', 'rabbitmq')
    await publishDeadLetters(f, [{id: 'a'}, {id: 'b', replayCount: '1'}, {id: 'c', value: Buffer.from([0xff, 0x01])}])
    expect(await replayDlq({...f.deps, dlq: f.dlq, maxReplays: 3})).toMatchObject({snapshot: 3, replayed: 3, skipped: 0, destinations: {[f.topic]: 3}})
    expect(await depth(f.dlq)).toBe(0)
    const got = await drain(f.topic)
    expect(got.map((m) => m.properties.messageId)).toEqual(['a', 'b', 'c'])
    expect(Buffer.compare(got[2]!.content, Buffer.from([0xff, 0x01]))).toBe(0)
    for (const m of got) {
      expect(m.properties).toMatchObject({
        contentType: 'application/json',
        correlationId: `c-${m.properties.messageId}`,
        appId: 'it',
        type: 'order.created',
        timestamp: 1_700_000_000,
        deliveryMode: 2,
      })
      expect(m.properties.headers).toMatchObject({
        'event-id': m.properties.messageId,
        custom: 'kept',
        number: 42,
        'x-original-queue': f.topic,
        'x-error-class': 'ValidationError',
        'x-attempts': 6,
      })
    }
    expect(got.map((m) => m.properties.headers?.['x-replay-count'])).toEqual([1, 2, 1])
  })

  it('show and list do not consume, and keep the queue order', async () => {
    const f = await fresh('dlq-r-show', 'rabbitmq')
    await publishDeadLetters(f, [{id: 'a', errorClass: 'SyntaxError'}, {id: 'b'}, {id: 'c'}, {id: 'd'}, {id: 'e', errorClass: 'SyntaxError'}])
    expect(await countOf(f, f.dlq)).toMatchObject({
      messages: 5,
      topErrors: [
        {errorClass: 'ValidationError', count: 3},
        {errorClass: 'SyntaxError', count: 2},
      ],
    })
    const first = await showDlq({...f.deps, dlq: f.dlq, limit: 3})
    expect(first).toMatchObject({messages: 5, shown: 3})
    expect(first.items.map((m) => m.key)).toEqual(['a', 'b', 'c'])
    expect(first.items[0]).toMatchObject({
      id: '1',
      value: '{"event_id":"a"}',
      error: {errorClass: 'SyntaxError', message: 'bad a', attempts: 6},
      original: {queue: f.topic, exchange: f.ns('events'), routingKey: 'order.created'},
    })
    const all = await showDlq({...f.deps, dlq: f.dlq, limit: 10})
    expect(all.items.map((m) => m.key)).toEqual(['a', 'b', 'c', 'd', 'e'])
    expect(await depth(f.dlq)).toBe(5)
    expect((await countOf(f, f.dlq)).messages).toBe(5)
  })

  it('replays what a consumer rejected (x-death) and RabbitMQ dead-letters it again when it fails again', async () => {
    const f = await fresh('dlq-r-death', 'rabbitmq')
    ch.publish(f.ns('events'), 'order.created', Buffer.from('{"event_id":"x"}'), {messageId: 'x', headers: {'event-id': 'x'}})
    await ch.waitForConfirms()
    const reject = async () => {
      const m = await eventually(async () => ch.get(f.topic, {noAck: false}), {what: 'a message on the queue'})
      ch.nack(m, false, false)
      return m
    }
    await reject()
    await eventually(async () => (await depth(f.dlq)) === 1, {what: 'dead-lettered by RabbitMQ'})
    expect((await countOf(f, f.dlq)).topErrors).toEqual([{errorClass: 'dead-lettered:rejected', count: 1}])
    expect((await showDlq({...f.deps, dlq: f.dlq, limit: 1})).items[0]).toMatchObject({
      original: {queue: f.topic, exchange: f.ns('events'), routingKey: 'order.created'},
    })

    expect(await replayDlq({...f.deps, dlq: f.dlq, maxReplays: 3})).toMatchObject({replayed: 1})
    const again = await reject()
    expect(again.properties.headers).toMatchObject({'event-id': 'x', 'x-replay-count': 1})
    await eventually(async () => (await depth(f.dlq)) === 1, {what: 'dead-lettered again'})
    expect((await showDlq({...f.deps, dlq: f.dlq, limit: 1})).items[0]).toMatchObject({key: 'x', replayCount: 1, error: {errorClass: 'dead-lettered:rejected'}})
  })

  it('acks only what the broker confirmed: an interrupted replay loses and duplicates nothing', async () => {
    const f = await fresh('dlq-r-abort', 'rabbitmq')
    await publishDeadLetters(f, ids(30))
    const controller = new AbortController()
    const first = await replayDlq({...f.deps, dlq: f.dlq, maxReplays: 3, rate: 20, signal: controller.signal, onProgress: () => controller.abort()})
    expect(first).toMatchObject({interrupted: true})
    expect(first.replayed).toBeGreaterThan(0)
    expect(first.replayed).toBeLessThan(30)
    expect(await depth(f.topic)).toBe(first.replayed)
    expect(await depth(f.dlq)).toBe(30 - first.replayed)
    const second = await replayDlq({...f.deps, dlq: f.dlq, maxReplays: 3})
    expect(second.replayed).toBe(30 - first.replayed)
    const got = (await drain(f.topic)).map((m) => m.properties.messageId as string)
    expect(got).toHaveLength(30)
    expect(new Set(got).size).toBe(30)
  })

  it('a republish RabbitMQ cannot route is not acked: the message stays in the DLQ', async () => {
    const f = await fresh('dlq-r-route', 'rabbitmq')
    await publishDeadLetters(f, ids(10))
    let deleted: Promise<unknown> | undefined
    await expect(replayDlq({...f.deps, dlq: f.dlq, maxReplays: 3, rate: 3, onProgress: () => (deleted ??= ch.deleteQueue(f.topic))})).rejects.toThrow(
      /could not route/,
    )
    await deleted
    const left = await depth(f.dlq)
    expect(left).toBeGreaterThan(0)
    expect(left).toBeLessThan(10)
    // Nothing missing from the DLQ but what was confirmed into the queue before it was deleted.
    const ids2 = (await showDlq({...f.deps, dlq: f.dlq, limit: 10})).items.map((m) => m.key)
    expect(ids2).toEqual(Array.from({length: left}, (_, i) => `e-${10 - left + i}`))
    await expect(replayDlq({...f.deps, dlq: f.dlq, maxReplays: 3})).rejects.toThrow(/does not exist/)
    expect(await depth(f.dlq)).toBe(left)
  })

  it('keeps to the snapshot: messages dead-lettered during the replay stay for the next one', async () => {
    const f = await fresh('dlq-r-snap', 'rabbitmq')
    await publishDeadLetters(f, ids(20))
    let late: Promise<unknown> | undefined
    const result = await replayDlq({...f.deps, dlq: f.dlq, maxReplays: 3, rate: 10, onProgress: () => (late ??= publishDeadLetters(f, ids(5, 'late')))})
    await late
    expect(result).toMatchObject({snapshot: 20, replayed: 20})
    expect((await showDlq({...f.deps, dlq: f.dlq, limit: 10})).items.map((m) => m.key)).toEqual(['late-0', 'late-1', 'late-2', 'late-3', 'late-4'])
    expect((await drain(f.topic)).map((m) => m.properties.messageId)).toEqual(ids(20).map((i) => i.id))
  })

  it('loop guard: a message at --max-replays is skipped and stays in the DLQ, unchanged', async () => {
    const f = await fresh('dlq-r-loop', 'rabbitmq')
    await publishDeadLetters(f, [{id: 'a'}, {id: 'tired', replayCount: '3'}, {id: 'b'}])
    expect(await replayDlq({...f.deps, dlq: f.dlq, maxReplays: 3, dryRun: true})).toMatchObject({replayed: 2, skipped: 1})
    expect(await depth(f.dlq)).toBe(3)
    expect(await replayDlq({...f.deps, dlq: f.dlq, maxReplays: 3})).toMatchObject({replayed: 2, skipped: 1})
    expect((await drain(f.topic)).map((m) => m.properties.messageId)).toEqual(['a', 'b'])
    const left = await drain(f.dlq)
    expect(left).toHaveLength(1)
    expect(left[0]!.properties).toMatchObject({
      messageId: 'tired',
      correlationId: 'c-tired',
      headers: {'x-replay-count': 3, custom: 'kept', 'x-error-class': 'ValidationError'},
    })
  })

  it('purge empties the DLQ (dry run changes nothing)', async () => {
    const f = await fresh('dlq-r-purge', 'rabbitmq')
    await publishDeadLetters(f, ids(4))
    expect(await purgeDlq({...f.deps, dlq: f.dlq, dryRun: true})).toMatchObject({purged: 4, dryRun: true})
    expect(await depth(f.dlq)).toBe(4)
    expect(await purgeDlq({...f.deps, dlq: f.dlq})).toMatchObject({purged: 4})
    expect(await depth(f.dlq)).toBe(0)
    expect(await countOf(f, f.dlq)).toMatchObject({messages: 0, topErrors: []})
  })
})
