import {randomUUID} from 'node:crypto'

import type amqp from 'amqplib'

import {type Namespace, rootNamespace} from '../../infra/topology/spec.js'
import type {Endpoints} from '../../infra/types.js'
import {UsageError} from '../../lib/errors.js'
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
}

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
  const queue = ns('pulses')
  const random = seededRandom(o.seed ?? Date.now())
  const amqpLib = await import('amqplib')
  const conn = await amqpLib.connect(o.endpoints.rabbitmq)
  conn.on('error', (error: Error) => o.logger.warn('rabbitmq.error', {error: error.message}))
  const totals = new Map<string, PulseTotal & {milli: bigint}>()
  let published = 0
  let invalid = 0
  const started = Date.now()
  const pacer = createPacer({rate: o.rate, total: o.total, signal: o.signal})
  let maxBehind = 0
  try {
    const worker = async () => {
      const ch: amqp.ConfirmChannel = await conn.createConfirmChannel()
      let pending = 0
      for (;;) {
        const i = await pacer.next()
        if (i === undefined) break
        maxBehind = Math.max(maxBehind, pacer.behindMs())
        let body: string
        if (random() < o.invalidRatio) {
          body = INVALID[Math.floor(random() * INVALID.length)]!()
          invalid++
        } else {
          const tenant = `tenant-${1 + Math.floor(random() * o.tenants)}`
          const sku = `SKU-${String(1 + Math.floor(random() * o.skus)).padStart(4, '0')}`
          const unit = o.units[Math.floor(random() * o.units.length)]!
          const milli = BigInt(1 + Math.floor(random() * 10_000)) // 0.001 .. 10.000
          const amount = formatMilli(milli)
          body = `{"tenant":${JSON.stringify(tenant)},"product_sku":${JSON.stringify(sku)},"use_unity":${JSON.stringify(unit)},"used_amount":${amount}}`
          const key = JSON.stringify([tenant, sku, unit])
          const t = totals.get(key) ?? {tenant, product_sku: sku, use_unity: unit, used_amount: '0', count: 0, milli: 0n}
          t.milli += milli
          t.count++
          totals.set(key, t)
        }
        ch.sendToQueue(queue, Buffer.from(body), {messageId: randomUUID(), contentType: 'application/json', persistent: true})
        published++
        if (++pending >= 200) {
          await ch.waitForConfirms()
          pending = 0
          o.onProgress?.({published, total: o.total, behindMs: pacer.behindMs()})
        }
      }
      await ch.waitForConfirms()
      await ch.close()
    }
    await Promise.all(Array.from({length: Math.max(1, o.workers)}, worker))
  } finally {
    await conn.close().catch(() => {})
  }
  const durationMs = Date.now() - started
  const ratePerSec = published / Math.max(durationMs / 1000, 0.001)
  const warnings: string[] = []
  if (o.rate > 0 && maxBehind > 1000) warnings.push(`the generator fell up to ${(maxBehind / 1000).toFixed(1)}s behind the asked rate of ${o.rate}/s; achieved ${ratePerSec.toFixed(0)}/s (raise --workers)`)
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
  }
}
