import {randomUUID} from 'node:crypto'

import type amqp from 'amqplib'

import {PULSES_QUEUE} from '../../../services/ingest/topology.js'
import {type Namespace, rootNamespace} from '../../infra/topology/spec.js'
import type {Endpoints} from '../../infra/types.js'
import {MmError, UsageError} from '../../lib/errors.js'
import type {Logger} from '../../lib/logger.js'
import {createPacer, seededRandom} from './schedule.js'

export interface LoadPulsesOptions {
  endpoints: Endpoints
  ns?: Namespace
  logger: Logger
  signal: AbortSignal
  total: number
  /** Messages per second; 0 publishes as fast as confirms allow. */
  rate: number
  workers: number
  tenants: number
  skus: number
  units: string[]
  /** Fraction (0..1) of deliberately invalid pulses, to exercise the DLQ. */
  invalidRatio: number
  seed?: number
  onProgress?: (p: {published: number; total: number; behindMs: number}) => void
}

export interface PulseTotal {
  tenant: string
  product_sku: string
  use_unity: string
  used_amount: string
  count: number
}

export interface LoadPulsesResult {
  published: number
  valid: number
  invalid: number
  durationMs: number
  ratePerSec: number
  /** Exact totals of the valid pulses this run published, per key: what a flush must add. */
  totals: PulseTotal[]
  warnings: string[]
  /** Stopped early (Ctrl-C, SIGTERM): fewer pulses than asked were published. */
  interrupted: boolean
}

/** How long a run waits for RabbitMQ to come back before it gives up. */
const RECONNECT_FOR_MS = 60_000

const MILLI = 1000n
const formatMilli = (m: bigint): string => {
  const whole = m / MILLI
  const frac = (m % MILLI).toString().padStart(3, '0').replace(/0+$/, '')
  return frac ? `${whole}.${frac}` : `${whole}`
}

/** Invalid bodies of the kinds the contract lists: not JSON, a missing field, a bad amount. */
const INVALID = [
  () => 'not json at all',
  () => JSON.stringify({tenant: 't', product_sku: 's', use_unity: 'u'}),
  () => JSON.stringify({tenant: 't', product_sku: 's', use_unity: 'u', used_amount: -1}),
  () => JSON.stringify({tenant: 't', product_sku: 's', use_unity: 'u', used_amount: 'ten'}),
]

/**
 * `mm load pulses`: publishes usage pulses to the `pulses` queue with publisher confirms, every
 * message with a message_id, and returns the exact totals it produced per key.
 */
export const loadPulses = async (o: LoadPulsesOptions): Promise<LoadPulsesResult> => {
  if (o.units.length === 0) throw new UsageError('--units needs at least one unit')
  if (o.invalidRatio < 0 || o.invalidRatio > 1) throw new UsageError('--invalid-ratio must be between 0 and 1')
  const ns = o.ns ?? rootNamespace
  const queue = ns(PULSES_QUEUE)
  const random = seededRandom(o.seed ?? Date.now())
  const amqpLib = await import('amqplib')
  // The connection comes back if the broker restarts mid-run (`mm up` repairing it): a batch
  // the broker had not confirmed is published again with the same message ids, which ingest
  // deduplicates, and only confirmed pulses count in the totals.
  let conn: amqp.ChannelModel | undefined
  let everConnected = false
  let published = 0
  let invalid = 0
  let connecting: Promise<amqp.ChannelModel> | undefined
  const connection = (): Promise<amqp.ChannelModel> =>
    conn
      ? Promise.resolve(conn)
      : (connecting ??= (async () => {
          const deadline = Date.now() + RECONNECT_FOR_MS
          for (let delay = 200; ; delay = Math.min(delay * 2, 2000)) {
            try {
              const c = await amqpLib.connect(o.endpoints.rabbitmq)
              c.on('error', (error: Error) => o.logger.warn('rabbitmq.error', {error: error.message}))
              c.on('close', () => conn === c && (conn = undefined))
              return (conn = c)
            } catch (error) {
              if (!everConnected) throw error // never connected: the platform is not there
              if (Date.now() > deadline || o.signal.aborted)
                throw new MmError(
                  `RabbitMQ unreachable for ${RECONNECT_FOR_MS / 1000}s after ${published} confirmed pulses: ${(error as Error).message}`,
                  'check mm status; the totals of the confirmed pulses were not printed',
                )
              await new Promise((resolve) => setTimeout(resolve, delay))
            }
          }
        })().finally(() => (connecting = undefined)))
  await connection()
  everConnected = true
  const totals = new Map<string, PulseTotal & {milli: bigint}>()
  const started = Date.now()
  const pacer = createPacer({rate: o.rate, total: o.total, signal: o.signal})
  let maxBehind = 0
  type Pending = {body: Buffer; messageId: string; key?: {tenant: string; sku: string; unit: string; milli: bigint}}
  /** Counted only once the broker confirmed it. */
  const count = (batch: Pending[]) => {
    for (const m of batch) {
      published++
      if (!m.key) {
        invalid++
        continue
      }
      const {tenant, sku, unit, milli} = m.key
      const id = JSON.stringify([tenant, sku, unit])
      const t = totals.get(id) ?? {tenant, product_sku: sku, use_unity: unit, used_amount: '0', count: 0, milli: 0n}
      t.milli += milli
      t.count++
      totals.set(id, t)
    }
  }
  try {
    const worker = async () => {
      let ch: amqp.ConfirmChannel | undefined
      /** A batch whose channel broke while it was being sent goes out again whole, on a new one. */
      let broken = false
      const openChannel = async () => {
        const c = await (await connection()).createConfirmChannel()
        c.on('error', () => {})
        return (ch = c)
      }
      const send = (c: amqp.ConfirmChannel, m: Pending) =>
        c.sendToQueue(queue, m.body, {messageId: m.messageId, contentType: 'application/json', persistent: true})
      const confirm = async (batch: Pending[]) => {
        for (let attempt = 0; ; attempt++) {
          try {
            let c = ch
            if (broken || attempt > 0 || !c) {
              if (attempt > 0) o.logger.warn('load.republish', {pulses: batch.length, attempt})
              c = await openChannel()
              for (const m of batch) send(c, m)
            }
            await c.waitForConfirms()
            broken = false
            count(batch)
            return
          } catch (error) {
            ch = undefined
            if (o.signal.aborted) throw error
            await new Promise((resolve) => setTimeout(resolve, 100))
          }
        }
      }
      let batch: Pending[] = []
      for (;;) {
        const i = await pacer.next()
        if (i === undefined) break
        maxBehind = Math.max(maxBehind, pacer.behindMs())
        let m: Pending
        if (random() < o.invalidRatio) {
          m = {body: Buffer.from(INVALID[Math.floor(random() * INVALID.length)]!()), messageId: randomUUID()}
        } else {
          const tenant = `tenant-${1 + Math.floor(random() * o.tenants)}`
          const sku = `SKU-${String(1 + Math.floor(random() * o.skus)).padStart(4, '0')}`
          const unit = o.units[Math.floor(random() * o.units.length)]!
          const milli = BigInt(1 + Math.floor(random() * 10_000)) // 0.001 .. 10.000
          const body = `{"tenant":${JSON.stringify(tenant)},"product_sku":${JSON.stringify(sku)},"use_unity":${JSON.stringify(unit)},"used_amount":${formatMilli(milli)}}`
          m = {body: Buffer.from(body), messageId: randomUUID(), key: {tenant, sku, unit, milli}}
        }
        batch.push(m)
        if (!broken) {
          try {
            send(ch ?? (await openChannel()), m)
          } catch {
            broken = true
            ch = undefined
          }
        }
        if (batch.length >= 200) {
          await confirm(batch)
          batch = []
          o.onProgress?.({published, total: o.total, behindMs: pacer.behindMs()})
        }
      }
      if (batch.length > 0) await confirm(batch)
      await ch?.close().catch(() => {})
    }
    await Promise.all(Array.from({length: Math.max(1, o.workers)}, worker))
  } finally {
    await conn?.close().catch(() => {})
  }
  const durationMs = Date.now() - started
  const ratePerSec = published / Math.max(durationMs / 1000, 0.001)
  const warnings: string[] = []
  if (o.rate > 0 && maxBehind > 1000)
    warnings.push(
      `the generator fell up to ${(maxBehind / 1000).toFixed(1)}s behind the asked rate of ${o.rate}/s; achieved ${ratePerSec.toFixed(0)}/s (raise --workers)`,
    )
  return {
    published,
    valid: published - invalid,
    invalid,
    durationMs,
    ratePerSec,
    totals: [...totals.values()]
      .map(({milli, ...t}) => ({...t, used_amount: formatMilli(milli)}))
      .sort((a, b) => a.tenant.localeCompare(b.tenant) || a.product_sku.localeCompare(b.product_sku) || a.use_unity.localeCompare(b.use_unity)),
    warnings,
    interrupted: o.signal.aborted,
  }
}
