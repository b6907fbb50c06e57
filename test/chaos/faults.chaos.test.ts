import {cpus} from 'node:os'

import {Redis} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {groupMembers, isAlive} from '../../src/lib/proc.js'
import {json} from '../e2e/cli.js'
import {eventually} from '../support/poll.js'
import {writeReliability, type CaseFigures} from './figures.js'
import {checkOracles, milli, pulseKey} from './oracle.js'
import {type ChaosPlatform, countLogEvents, inFlight, startChaosPlatform} from './platform.js'
import {startWitness, type WitnessOrder} from './witness.js'

/**
 * The chaos tier (RELIABILITY.md): one platform, started as a user starts it; for each case a
 * load runs (mm load orders with the test's own witness orders, mm load pulses, or both), one
 * process is killed with SIGKILL in the middle of it, `mm up -d` repairs, and once the platform
 * drained and flushed, the oracles (oracle.ts) must hold for everything since the start: nothing
 * lost, nothing counted twice, the read model equal to the write model, no dead letters.
 */
let p: ChaosPlatform
let redis: Redis
let witnessCustomer: string
let witnessProduct: string
const initialStock = new Map<string, number>()
const witness: WitnessOrder[] = []
const pulses = new Map<string, bigint>()
const figures: CaseFigures[] = []

beforeAll(async () => {
  p = await startChaosPlatform()
  redis = new Redis(p.redisUrl, {lazyConnect: true, maxRetriesPerRequest: 1})
  redis.on('error', () => {})
  const seeded = await p.mm(['seed', '--customers', '20', '--products', '30', '--json'])
  expect(seeded.exitCode, seeded.stderr).toBe(0)
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${p.gateway}${path}`, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify(body)})
    expect(res.status).toBe(201)
    return ((await res.json()) as {id: string}).id
  }
  witnessCustomer = await post('/customers', {name: 'Witness', email: `witness-${Date.now()}@example.com`})
  witnessProduct = await post('/products', {sku: `WITNESS-${Date.now()}`, name: 'Witness', price_cents: 100, stock: 1_000_000})
  // Every product's stock before any order: the stock oracle subtracts what orders reserved since.
  const {rows} = await p.pool.query<{id: string; stock: number}>('SELECT id, stock FROM product.products')
  for (const r of rows) initialStock.set(r.id, r.stock)
}, 300_000)

afterAll(async () => {
  if (figures.length > 0) writeReliability(figures, {node: process.version, cores: cpus().length})
  redis?.disconnect()
  await p?.stop()
}, 120_000)

interface Case {
  target: 'supervisor' | 'postgres' | 'redis' | 'rabbitmq' | 'kafka' | 'mongo'
  orders: boolean
  pulses: boolean
}

/** Progress on stderr: a chaos run is long, and where it stands matters when it fails. */
const log = (line: string) => process.stderr.write(`[chaos ${new Date().toISOString().slice(11, 19)}] ${line}\n`)

const runCase = async (c: Case): Promise<void> => {
  const {rows} = await p.pool.query<{n: string}>('SELECT count(*) AS n FROM "order".orders')
  const ordersBefore = Number(rows[0]!.n)
  const pulsesLoad = c.pulses ? p.spawn(['load', 'pulses', '--total', '30000', '--rate', '1500', '--json']) : undefined
  const ordersLoad = c.orders ? p.spawn(['load', 'orders', '--rate', '15', '--duration', '20s', '--step-timeout', '2m', '--json']) : undefined
  const w = c.orders ? startWitness({gateway: p.gateway, customerId: witnessCustomer, productId: witnessProduct, perSecond: 3}) : undefined

  // The fault goes in the middle of the traffic: once it is visibly flowing.
  await eventually(async () => (w ? w.orders.length >= 10 : (await redis.hlen('ingest:agg')) > 0), {timeoutMs: 60_000, what: 'traffic flowing'})
  const flight = await inFlight(p)
  const pid = p.pid(c.target)
  log(`${c.target}: ${flight} in flight, SIGKILL to pid ${pid}`)
  const killedAt = Date.now()
  // A server dies whole (its launcher and what it started: they share the process group mm gave
  // them); the supervisor is one process, its runners inside it.
  process.kill(c.target === 'supervisor' ? pid : -pid, 'SIGKILL')
  await eventually(async () => (c.target === 'supervisor' ? !isAlive(pid) : groupMembers(pid).length === 0), {
    timeoutMs: 10_000,
    what: `${c.target} (pid ${pid}) gone`,
  })

  // Repaired: for the supervisor, when mm up -d reports the platform up (it returns once every
  // runner is ready); for a server, when mm wait --for ready says so (mm up -d returns once the
  // server answers, and the runners reconnect on their own just after).
  const up = await p.up()
  expect(up.exitCode, `mm up -d after killing ${c.target}:\n${up.stdout}\n${up.stderr}`).toBe(0)
  let repairMs = Date.now() - killedAt
  const ready = await p.mm(['wait', '--for', 'ready', '--timeout', '2m'])
  expect(ready.exitCode, ready.stdout + ready.stderr).toBe(0)
  if (c.target !== 'supervisor') repairMs = Date.now() - killedAt
  log(`${c.target}: repaired in ${(repairMs / 1000).toFixed(1)} s`)

  let confirmedPulses = 0
  if (pulsesLoad) {
    const r = await pulsesLoad
    const out = json<{published: number; totals: {tenant: string; product_sku: string; use_unity: string; used_amount: string}[]}>({
      exitCode: r.exitCode ?? -1,
      stdout: String(r.stdout),
      stderr: String(r.stderr),
    })
    confirmedPulses = out.published
    for (const t of out.totals) pulses.set(pulseKey(t), (pulses.get(pulseKey(t)) ?? 0n) + milli(t.used_amount))
  }
  if (ordersLoad) await ordersLoad
  if (w) {
    await w.stop()
    expect(w.errors).toEqual([])
    witness.push(...w.orders)
  }

  log(`${c.target}: loads done, waiting until drained`)
  // A platform that does not drain is a finding too: the oracles still run and the figures are kept.
  const stuck: string[] = []
  const drained = await p.mm(['wait', '--for', 'drained', '--timeout', '3m', '--json'])
  if (drained.exitCode !== 0) stuck.push(`not drained after 3 min: ${JSON.stringify((JSON.parse(drained.stdout) as {pending: unknown}).pending)}`)
  const flushed = await p.mm(['flush', '--json'])
  if (flushed.exitCode !== 0) stuck.push(`mm flush failed (exit ${flushed.exitCode}): ${flushed.stderr.trim()}`)

  const renewals = countLogEvents(p.dir, 'kafka.producer_renewed')
  if (renewals > 0) log(`${c.target}: Kafka producers renewed ${renewals} time(s) (the broker had forgotten their producer id)`)
  const verdict = await checkOracles(p, {initialStock, witness, pulses})
  verdict.problems.unshift(...stuck)
  log(`${c.target}: ${verdict.orders} orders checked, ${verdict.problems.length} problem(s), lost ${verdict.lost}, counted twice ${verdict.countedTwice}`)
  figures.push({
    fault: `kill -9 ${c.target}`,
    load: [c.orders && 'orders', c.pulses && 'pulses'].filter(Boolean).join(' + '),
    inFlight: flight,
    orders: verdict.orders - ordersBefore,
    witnessed: w?.orders.length ?? 0,
    pulses: confirmedPulses,
    lost: verdict.lost,
    countedTwice: verdict.countedTwice,
    repairMs,
    renewals,
    problems: verdict.problems.length,
  })
  expect(verdict.problems).toEqual([])
  expect(verdict.lost).toBe(0)
  expect(verdict.countedTwice).toBe(0)
}

describe('chaos: SIGKILL under load, mm up -d repairs, nothing lost or counted twice', () => {
  it('kill -9 of the supervisor during mm load pulses', () => runCase({target: 'supervisor', orders: false, pulses: true}))
  it('kill -9 of the supervisor during mm load orders', () => runCase({target: 'supervisor', orders: true, pulses: false}))
  for (const target of ['postgres', 'redis', 'rabbitmq', 'mongo'] as const) {
    it(`kill -9 of ${target} during a mixed load`, () => runCase({target, orders: true, pulses: true}))
  }
  // After Kafka restarts from a SIGKILL the broker may have lost the relays' producer state; the
  // relay then renews its producer (services/shared/kafka-producer.ts) instead of being refused for good.
  it('kill -9 of kafka during a mixed load', () => runCase({target: 'kafka', orders: true, pulses: true}))
})
