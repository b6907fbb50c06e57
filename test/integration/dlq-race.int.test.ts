import {randomUUID} from 'node:crypto'
import {mkdirSync} from 'node:fs'
import {join} from 'node:path'

import {type Admin, type Consumer, Kafka, logLevel, type Producer} from 'kafkajs'
import {afterAll, beforeAll, expect, inject, it} from 'vitest'

import {applyKafka} from '../../src/infra/topology/apply.js'
import {namespacedTopology, prefixNamespace, TOPOLOGY, type Topology} from '../../src/infra/topology/spec.js'
import {createLogger, fileSink} from '../../src/lib/logger.js'
import {sleep} from '../../src/lib/proc.js'
import {type DlqDeps, listDlqs, replayDlq, replayGroupOf, type ReplayResult} from '../../src/operations/dlq/index.js'
import {waitVisible} from '../../src/operations/dlq/kafka-visible.js'
import {eventually} from './harness.js'
import {uniqueName} from './isolation.js'

/**
 * Issue 10, item 1: a Kafka replay commits each batch in a transaction, and the broker writes the
 * commit markers (on the destination partitions and on __consumer_offsets) after EndTxn has
 * answered. A replay must return only once what it committed is visible: the replay group's
 * offsets (what list/show/the next replay start from) and the replayed messages (read_committed,
 * i.e. below the last stable offset). Checked right after every replay, many times, with dead
 * letters and live messages produced all along.
 */

const endpoints = inject('endpoints')
const logDir = join(inject('dataDir'), 'logs')
mkdirSync(logDir, {recursive: true})
const logger = createLogger(fileSink(join(logDir, `dlq-race-${randomUUID().slice(0, 8)}.log`)), 'debug')
const kafka = new Kafka({clientId: 'it-dlq-race', brokers: endpoints.kafka, logLevel: logLevel.NOTHING})
const PARTITIONS = 3
const ITERATIONS = 50

let admin: Admin
let producer: Producer
beforeAll(async () => {
  admin = kafka.admin()
  producer = kafka.producer({idempotent: true})
  await Promise.all([admin.connect(), producer.connect()])
})
afterAll(async () => {
  await Promise.all([admin?.disconnect(), producer?.disconnect()])
})

type Offsets = bigint[]
const zeros = (): Offsets => Array.from({length: PARTITIONS}, () => 0n)

/** Where each DLQ message is (partition, offset), by id, from the produce responses. */
const createLedger = () => {
  const at = new Map<string, {partition: number; offset: bigint}>()
  return {
    record: (id: string, partition: number, offset: bigint) => at.set(id, {partition, offset}),
    /** Ids of the DLQ messages below `ends` (per partition). */
    below: (ends: Offsets) => [...at].filter(([, p]) => p.offset < ends[p.partition]!).map(([id]) => id),
    size: () => at.size,
  }
}

const deadLetter = (topic: string, id: string, partition: number) => ({
  key: `key-${id}`,
  value: JSON.stringify({event_id: id}),
  partition,
  headers: {'event-id': id, 'x-original-topic': topic, 'x-original-partition': String(partition), 'x-error-class': 'ValidationError', 'x-attempts': '6'},
})

/** Round robin over the partitions; a message's offset is its partition's base offset plus its rank there. */
const sendDeadLetters = async (f: {topic: string; dlq: string}, ledger: ReturnType<typeof createLedger>, ids: string[]) => {
  const messages = ids.map((id, i) => deadLetter(f.topic, id, i % PARTITIONS))
  const meta = await producer.send({topic: f.dlq, acks: -1, messages})
  for (const [i, id] of ids.entries())
    ledger.record(id, i % PARTITIONS, BigInt(meta.find((m) => m.partition === i % PARTITIONS)!.baseOffset!) + BigInt(Math.floor(i / PARTITIONS)))
}

/**
 * Background load until stopped: live messages to the original topic (plain and transactional)
 * and dead letters to the DLQ, one send at a time each. The DLQ side can be paused (no new send
 * starts; `inFlight` says whether one was still under way) so a pending count can be checked.
 */
const startLoad = (f: {topic: string; dlq: string}, ledger: ReturnType<typeof createLedger>) => {
  let stopped = false
  let dlqPaused = false
  let dlqSend: Promise<void> = Promise.resolve()
  let dlqBusy = false
  let n = 0
  // Live traffic written in transactions too (as an exactly-once consumer would): it keeps the
  // transaction coordinator busy and holds the topic's last stable offset back now and then.
  const transactional = kafka.producer({transactionalId: `it-race-live-${randomUUID()}`, idempotent: true, maxInFlightRequests: 1})
  const txnLoop = (async () => {
    await transactional.connect()
    for (let k = 0; !stopped; k++) {
      const t = await transactional.transaction()
      await t.send({
        topic: f.topic,
        acks: -1,
        messages: [0, 1, 2].map((j) => ({key: `txn-${k}-${j}`, value: JSON.stringify({event_id: `txn-${k}-${j}`}), partition: j})),
      })
      await t.commit()
      await sleep(10)
    }
    await transactional.disconnect()
  })()
  const loop = (async () => {
    while (!stopped) {
      const k = n++
      const live = producer.send({
        topic: f.topic,
        acks: -1,
        messages: [0, 1].map((j) => ({key: `live-${k}-${j}`, value: JSON.stringify({event_id: `live-${k}-${j}`}), partition: (k + j) % PARTITIONS})),
      })
      if (!dlqPaused) {
        dlqBusy = true
        dlqSend = sendDeadLetters(f, ledger, [`load-${k}`]).finally(() => (dlqBusy = false))
        await dlqSend
      }
      await live
      await sleep(10)
    }
  })()
  return {
    pauseDlq: () => {
      dlqPaused = true
      return {inFlight: dlqBusy ? 1 : 0, settled: dlqSend}
    },
    resumeDlq: () => void (dlqPaused = false),
    stop: async () => {
      stopped = true
      await Promise.all([loop, txnLoop])
    },
    sent: () => n,
  }
}

/** Reads the original topic (read_committed) all along; keeps the replayed messages with their offsets. */
const startReader = async (topic: string) => {
  const groupId = `it-race-read-${randomUUID()}`
  const consumer: Consumer = kafka.consumer({groupId, maxWaitTimeInMs: 50})
  const position = zeros()
  const replayed: {partition: number; offset: bigint; id: string}[] = []
  await consumer.connect()
  await consumer.subscribe({topics: [topic], fromBeginning: true})
  consumer.on(consumer.events.END_BATCH_PROCESS, ({payload}) => {
    const next = BigInt(payload.lastOffset) + 1n
    if (next > position[payload.partition]!) position[payload.partition] = next
  })
  await consumer.run({
    eachMessage: async ({partition, message}) => {
      if (message.headers?.['x-replay-count'] === undefined) return
      replayed.push({partition, offset: BigInt(message.offset), id: (JSON.parse(message.value!.toString()) as {event_id: string}).event_id})
    },
  })
  return {
    /** Ids of the replayed messages below `ends`, once the reader got that far. */
    replayedBelow: async (ends: Offsets) => {
      await eventually(async () => ends.every((e, p) => position[p]! >= e), {
        timeoutMs: 20_000,
        what: `the reader to reach ${ends.join(',')} (at ${position.join(',')})`,
      })
      return replayed.filter((r) => r.offset < ends[r.partition]!).map((r) => r.id)
    },
    all: () => replayed.map((r) => r.id),
    stop: async () => {
      await consumer.disconnect()
      await admin.deleteGroups([groupId]).catch(() => {})
    },
  }
}

const sorted = (ids: string[]) => [...ids].sort()

it(
  'two replays back to back under load, 50 times: each returns with its commit visible to offsets, list and read_committed readers; nothing replayed twice',
  {timeout: 170_000},
  async () => {
    const prefix = `${uniqueName('dlq-race')}_`
    const ns = prefixNamespace(prefix)
    const topology: Topology = {...TOPOLOGY, kafkaTopics: [{name: 'order.created', partitions: PARTITIONS}], rabbitExchanges: [], rabbitQueues: []}
    await applyKafka(endpoints.kafka, namespacedTopology(topology, ns))
    const f = {topic: ns('order.created'), dlq: ns('order.created.dlq')}
    const deps: DlqDeps = {endpoints, ns, logger, topology}
    const group = replayGroupOf({base: 'order.created.dlq'}, ns)
    const ledger = createLedger()
    const load = startLoad(f, ledger)
    const reader = await startReader(f.topic)

    const ends = async (topic: string): Promise<Offsets> => {
      const out = zeros()
      for (const o of await admin.fetchTopicOffsets(topic)) out[o.partition] = BigInt(o.high)
      return out
    }
    const committedOffsets = async (): Promise<Offsets> => {
      const out = zeros()
      for (const p of (await admin.fetchOffsets({groupId: group, topics: [f.dlq]}))[0]?.partitions ?? [])
        out[p.partition] = BigInt(p.offset) < 0n ? 0n : BigInt(p.offset)
      return out
    }

    let committed = zeros() // the replay group's offsets as last verified
    let replayedSoFar = 0
    let checks = 0
    let progressChecks = 0
    /** Progress a replay reported (after each committed batch), with what Kafka showed at that moment. */
    let observed: {label: string; before: number; replayed: number; seen: Promise<[Offsets, Offsets]>}[] = []
    const watch =
      (label: string, before = 0) =>
      (p: {replayed: number}) =>
        void observed.push({label, before, replayed: p.replayed, seen: Promise.all([committedOffsets(), ends(f.topic)])})
    /** Right after a replay returned: what it committed must already be what everyone reads. */
    const check = async (label: string, results: ReplayResult[], withList: boolean) => {
      const paused = withList ? load.pauseDlq() : undefined
      // All at once, before anything else: nothing here may give the broker time to catch up.
      const [offsets, lso, listed] = await Promise.all([
        committedOffsets(),
        ends(f.topic),
        withList ? listDlqs(deps).then((l) => l.dlqs.find((d) => d.name === f.dlq)!) : undefined,
      ])
      const replayedNow = results.reduce((sum, r) => sum + r.replayed, 0)
      replayedSoFar += replayedNow
      // 1. The group's offsets moved by exactly what the replays say they replayed (no markers in this DLQ).
      const moved = offsets.reduce((sum, o, p) => sum + Number(o - committed[p]!), 0)
      expect(moved, `${label}: group offsets moved (${committed.join(',')} -> ${offsets.join(',')})`).toBe(replayedNow)
      // 2. The original topic below its last stable offset holds every DLQ message below those offsets, once.
      if (paused) await paused.settled
      const expected = ledger.below(offsets)
      const got = await reader.replayedBelow(lso)
      expect(got.length, `${label}: replayed messages visible (lso ${lso.join(',')})`).toBe(expected.length)
      expect(sorted(got), label).toEqual(sorted(expected))
      expect(expected.length, label).toBe(replayedSoFar)
      // 3. mm dlq list right after: exactly what is left (the one dead letter in flight at the pause may or may not count).
      if (paused && listed) {
        const dlqEnds = await ends(f.dlq)
        const pending = dlqEnds.reduce((sum, e, p) => sum + Number(e - offsets[p]!), 0)
        expect(listed.approximate, label).toBe(false)
        expect(listed.messages, `${label}: list counted ${listed.messages}, pending ${pending} (in flight ${paused.inFlight})`).toBeLessThanOrEqual(pending)
        expect(listed.messages, `${label}: list counted ${listed.messages}, pending ${pending} (in flight ${paused.inFlight})`).toBeGreaterThanOrEqual(
          pending - paused.inFlight,
        )
        load.resumeDlq()
      }
      // 4. Every progress report: by then its batches were visible too (the replay may have gone further since).
      for (const o of observed) {
        const [seenOffsets, seenLso] = await o.seen
        const seenMoved = seenOffsets.reduce((sum, s, p) => sum + Number(s - committed[p]!), 0)
        expect(seenMoved, `${o.label}: group offsets when it reported ${o.replayed} replayed`).toBeGreaterThanOrEqual(o.before + o.replayed)
        const visible = (await reader.replayedBelow(seenLso)).length
        expect(visible, `${o.label}: replayed messages visible when it reported ${o.replayed}`).toBeGreaterThanOrEqual(
          replayedSoFar - replayedNow + o.before + o.replayed,
        )
        progressChecks++
      }
      observed = []
      committed = offsets
      checks++
    }

    const started = Date.now()
    try {
      for (let i = 0; i < ITERATIONS; i++) {
        await sendDeadLetters(
          f,
          ledger,
          Array.from({length: PARTITIONS + 1}, (_, j) => `seed-${i}-${j}`),
        )
        // The first replay is whole, capped by --limit, or interrupted after its first batch.
        const controller = new AbortController()
        const mode = i % 3
        const first = await replayDlq({
          ...deps,
          dlq: f.dlq,
          maxReplays: 3,
          ...(mode === 1 ? {limit: 2} : {}),
          signal: controller.signal,
          onProgress: (p) => {
            watch(`iteration ${i}, first replay`)(p)
            if (mode === 2) controller.abort()
          },
        })
        if (mode === 1) expect(first.replayed).toBeLessThanOrEqual(2)
        if (i % 2 === 0) {
          await check(`iteration ${i}, first replay`, [first], true)
          await check(
            `iteration ${i}, second replay`,
            [await replayDlq({...deps, dlq: f.dlq, maxReplays: 3, onProgress: watch(`iteration ${i}, second replay`)})],
            false,
          )
        } else {
          // Back to back: the second starts the moment the first returned.
          const second = await replayDlq({...deps, dlq: f.dlq, maxReplays: 3, onProgress: watch(`iteration ${i}, second replay`, first.replayed)})
          await check(`iteration ${i}, both replays`, [first, second], true)
        }
      }
    } finally {
      await load.stop()
    }
    // Drain what the load left, then: every dead letter replayed exactly once, nothing pending.
    await check('final', [await replayDlq({...deps, dlq: f.dlq, maxReplays: 3})], true)
    const all = reader.all()
    expect(new Set(all).size).toBe(all.length)
    expect(all.length).toBe(ledger.size())
    expect((await listDlqs(deps)).dlqs.find((d) => d.name === f.dlq)!.messages).toBe(0)
    await reader.stop()
    logger.info('dlq.race_done', {iterations: ITERATIONS, checks, progressChecks, replayed: replayedSoFar, loadSends: load.sent(), ms: Date.now() - started})
    process.stderr.write(
      `dlq race: ${ITERATIONS} iterations, ${checks} checks after a return, ${progressChecks} after a progress report, ${replayedSoFar} replayed, ${load.sent()} load sends, ${Date.now() - started}ms\n`,
    )
  },
)

it('waiting for a commit to show fails past its deadline with an error that says what is missing', async () => {
  const topic = `${uniqueName('dlq-visible')}`
  await admin.createTopics({waitForLeaders: true, topics: [{topic, numPartitions: 1}]})
  // An offset the group never reaches.
  await expect(waitVisible(admin, {group: `${topic}-group`, dlq: topic, offsets: new Map([[0, 5n]]), written: []}, {timeoutMs: 300})).rejects.toThrow(
    new RegExp(`committed the transaction but did not show the offset 5 of ${topic}-group on ${topic}\\[0\\] within 0s`),
  )
  // Records behind another producer's open transaction: read_committed readers cannot see them yet.
  const holder = kafka.producer({transactionalId: `${topic}-holder`, idempotent: true, maxInFlightRequests: 1})
  await holder.connect()
  const open = await holder.transaction()
  try {
    await open.send({topic, acks: -1, messages: [{value: 'held'}]})
    const [written] = await producer.send({topic, acks: -1, messages: [{value: 'after'}]})
    await expect(waitVisible(admin, {group: `${topic}-group`, dlq: topic, offsets: new Map(), written: [written!]}, {timeoutMs: 300})).rejects.toThrow(
      `did not show the records on ${topic}[0]`,
    )
    await open.commit()
    await waitVisible(admin, {group: `${topic}-group`, dlq: topic, offsets: new Map(), written: [written!]}, {timeoutMs: 10_000})
  } finally {
    await holder.disconnect()
  }
})
