import type {Redis} from 'ioredis'

import type {Namespace} from '../../src/infra/topology/spec.js'
import {joinUnits, splitUnits, UNIT} from './decimal.js'
import {type AggregateKey, fracField, ingestKeys, parseField, runScript, wholeField} from './keys.js'
import type {Pulse} from './pulse.js'

/** How long a message id is remembered for deduplication: 7 days. */
export const SEEN_TTL_SECONDS = 7 * 24 * 3600

/** The live hash cannot take this amount any more (whole units beyond signed 64 bits): flush first. */
export class AggregateOverflowError extends Error {
  override name = 'AggregateOverflowError'
}

/**
 * One atomic step: skip when the message id was seen, else add whole and fraction with carry,
 * then remember the id. KEYS: live hash, [seen key]. ARGV: whole field, fraction field, whole,
 * fraction, -whole, ttl, -fraction. Nothing is left half-applied: on overflow the script undoes its own
 * increments and returns the error before the id is remembered.
 */
const INCREMENT = `
if KEYS[2] and redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local w = redis.pcall('HINCRBY', KEYS[1], ARGV[1], ARGV[3])
if type(w) == 'table' and w.err then return w end
local f = redis.call('HINCRBY', KEYS[1], ARGV[2], ARGV[4])
if f >= ${UNIT} then
  local c = redis.pcall('HINCRBY', KEYS[1], ARGV[1], '1')
  if type(c) == 'table' and c.err then
    redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[5])
    redis.call('HINCRBY', KEYS[1], ARGV[2], ARGV[7])
    return c
  end
  redis.call('HINCRBY', KEYS[1], ARGV[2], '-${UNIT}')
end
if KEYS[2] then redis.call('SET', KEYS[2], '1', 'EX', ARGV[6]) end
return 1
`

/**
 * Adds a pulse to the live aggregates. With a message id the increment happens at most once
 * per id (within SEEN_TTL_SECONDS), atomically with remembering the id.
 */
export const recordPulse = async (redis: Redis, ns: Namespace, pulse: Pulse, messageId?: string): Promise<'counted' | 'duplicate'> => {
  const k = ingestKeys(ns)
  const key = [pulse.tenant, pulse.product_sku, pulse.use_unity] as [string, string, string]
  const {whole, frac} = splitUnits(pulse.units)
  const keys = messageId ? [k.live, k.seen(messageId)] : [k.live]
  try {
    const result = await runScript(redis, INCREMENT, keys, [wholeField(key), fracField(key), whole.toString(), frac.toString(), (-whole).toString(), SEEN_TTL_SECONDS, (-frac).toString()])
    return result === 0 ? 'duplicate' : 'counted'
  } catch (error) {
    if (/overflow/i.test((error as Error).message)) throw new AggregateOverflowError(`aggregate ${JSON.stringify(key)} would exceed the live limit; flush first`)
    throw error
  }
}

export interface AggregateTotal {
  /** JSON.stringify([tenant, sku, unity]): unique per key, and the global sort order of flushes. */
  id: string
  key: AggregateKey
  units: bigint
}

/**
 * Every total of an aggregate hash. The live hash is read by HSCAN so Redis is never blocked long;
 * a snapshot no longer changes, so `whole` reads it with one HGETALL. Each key's JSON is parsed
 * once (its `w` and `f` fields share it), which is most of the cost on large flushes.
 */
export const scanTotals = async (redis: Redis, hash: string, whole = false): Promise<AggregateTotal[]> => {
  const parts = new Map<string, {whole?: string; frac?: string}>()
  const take = (field: string, value: string) => {
    const part = field[0]
    if (part !== 'w' && part !== 'f') return
    const id = field.slice(1)
    const entry = parts.get(id) ?? {}
    // HSCAN may return a field twice: assigning (not adding) keeps repeats harmless.
    if (part === 'w') entry.whole = value
    else entry.frac = value
    parts.set(id, entry)
  }
  if (whole) {
    for (const [field, value] of Object.entries(await redis.hgetall(hash))) take(field, value)
  } else {
    let cursor = '0'
    do {
      const [next, flat] = await redis.hscan(hash, cursor, 'COUNT', 2000)
      cursor = next
      for (let i = 0; i + 1 < flat.length; i += 2) take(flat[i]!, flat[i + 1]!)
    } while (cursor !== '0')
  }
  const totals: AggregateTotal[] = []
  for (const [id, p] of parts) {
    const field = parseField(`w${id}`)
    if (!field) continue
    totals.push({id, key: field.key, units: joinUnits(BigInt(p.whole ?? '0'), BigInt(p.frac ?? '0'))})
  }
  return totals
}
