import type {Redis} from 'ioredis'

import type {Namespace} from '../shared/naming.js'
import {joinUnits, splitUnits, UNIT} from './decimal.js'
import {type AggregateKey, ingestKeys, parseField, runScript} from './keys.js'
import type {Pulse} from './pulse.js'

/** How long a message id is remembered for deduplication: 7 days. */
export const SEEN_TTL_SECONDS = 7 * 24 * 3600

/** The live hash cannot take this amount any more (whole units beyond signed 64 bits): flush first. */
export class AggregateOverflowError extends Error {
  override name = 'AggregateOverflowError'
}

/**
 * Pulses in order, each one atomic step: skip when its message id was seen, else add whole and
 * fraction with carry, then remember the id. Any amount. KEYS: live hash, then the seen keys.
 * ARGV: ttl, then per pulse: key id (JSON of the tuple), whole, fraction, index in KEYS of its
 * seen key (0: no message id). Returns {status, error}: one character per pulse done ('1'
 * counted, '0' duplicate) and, when it stopped early, the error of the next pulse, which is left
 * untouched (on overflow its own increments are undone, its id is not remembered); the pulses
 * after it are not attempted.
 */
const INCREMENT_EACH = `
local out = {}
for a = 2, #ARGV, 4 do
  local id, whole, frac, s = ARGV[a], ARGV[a + 1], ARGV[a + 2], tonumber(ARGV[a + 3])
  local seen = s > 0 and KEYS[s] or nil
  if seen and redis.call('EXISTS', seen) == 1 then
    out[#out + 1] = '0'
  else
    local wf, ff = 'w' .. id, 'f' .. id
    local w = redis.pcall('HINCRBY', KEYS[1], wf, whole)
    if type(w) == 'table' and w.err then return {table.concat(out), w.err} end
    local f = redis.pcall('HINCRBY', KEYS[1], ff, frac)
    if type(f) == 'table' and f.err then
      if whole ~= '0' then redis.call('HINCRBY', KEYS[1], wf, '-' .. whole) end
      return {table.concat(out), f.err}
    end
    if f >= ${UNIT} then
      local c = redis.pcall('HINCRBY', KEYS[1], wf, '1')
      if type(c) == 'table' and c.err then
        if whole ~= '0' then redis.call('HINCRBY', KEYS[1], wf, '-' .. whole) end
        if frac ~= '0' then redis.call('HINCRBY', KEYS[1], ff, '-' .. frac) end
        return {table.concat(out), c.err}
      end
      redis.call('HINCRBY', KEYS[1], ff, '-${UNIT}')
    end
    if seen then redis.call('SET', seen, '1', 'EX', ARGV[1]) end
    out[#out + 1] = '1'
  end
end
return {table.concat(out), ''}
`

/** Below this, a batch's whole units and fractions per key sum exactly in Lua's doubles (< 2^53). */
const GROUPED_WHOLE_LIMIT = 1n << 40n
const GROUPED_MAX_PULSES = 4096

/**
 * The same for pulses whose whole part is below 2^40 (nearly all), with far fewer Redis calls:
 * one `SET NX` per message id (claims it: a duplicate, also within the batch, is skipped), then
 * per aggregate key the sums of its counted pulses, added with ONE HINCRBY per field and carry.
 * Sums stay below 2^53 (GROUPED_WHOLE_LIMIT × GROUPED_MAX_PULSES), so Lua's doubles hold them
 * exactly. KEYS: live hash, then the seen keys. ARGV: ttl, K, K key ids, then per pulse: key
 * index (1..K), whole, fraction, index in KEYS of its seen key (0: none). Returns {status, error}:
 * per pulse '1' counted, '0' duplicate, or 'x' when its key failed (its whole units would pass
 * 2^63 - 1, or a field is not an integer): then every pulse of that key is left untouched
 * (increments undone, ids released) and `error` says why; the other keys are counted.
 */
const INCREMENT_GROUPED = `
local K = tonumber(ARGV[2])
local status, wsum, fsum, members = {}, {}, {}, {}
for k = 1, K do
  wsum[k], fsum[k], members[k] = 0, 0, {}
end
local p = 0
for a = 3 + K, #ARGV, 4 do
  p = p + 1
  local k, s = tonumber(ARGV[a]), tonumber(ARGV[a + 3])
  if s > 0 and not redis.call('SET', KEYS[s], '1', 'NX', 'EX', ARGV[1]) then
    status[p] = '0'
  else
    status[p] = '1'
    wsum[k] = wsum[k] + tonumber(ARGV[a + 1])
    fsum[k] = fsum[k] + tonumber(ARGV[a + 2])
    local m = members[k]
    m[#m + 1] = p
    m[#m + 1] = s
  end
end
local err = ''
for k = 1, K do
  local m = members[k]
  if #m > 0 then
    local wf, ff = 'w' .. ARGV[2 + k], 'f' .. ARGV[2 + k]
    local f = redis.pcall('HINCRBY', KEYS[1], ff, string.format('%.0f', fsum[k]))
    local failed, c
    if type(f) == 'table' and f.err then
      failed = f.err
    else
      c = math.floor(f / ${UNIT})
      local w = redis.pcall('HINCRBY', KEYS[1], wf, string.format('%.0f', wsum[k] + c))
      if type(w) == 'table' and w.err then
        failed = w.err
        if fsum[k] > 0 then redis.call('HINCRBY', KEYS[1], ff, string.format('%.0f', -fsum[k])) end
      elseif c > 0 then
        redis.call('HINCRBY', KEYS[1], ff, string.format('%.0f', -c * ${UNIT}))
      end
    end
    if failed then
      for i = 1, #m, 2 do
        status[m[i]] = 'x'
        if m[i + 1] > 0 then redis.call('DEL', KEYS[m[i + 1]]) end
      end
      err = failed
    end
  end
end
return {table.concat(status), err}
`

export type PulseOutcome = 'counted' | 'duplicate'

/** A pulse to record, with its AMQP message id when it has one. */
export interface PulseWrite {
  pulse: Pulse
  messageId?: string
}

/**
 * Records pulses with ONE script call (one round trip): dedupe by message id and exact
 * increments. Returns an outcome per pulse, undefined for a pulse left untouched; `error` says
 * why (an AggregateOverflowError when its key reached the live limit: flush, then record it again).
 */
export const recordPulses = async (redis: Redis, ns: Namespace, writes: PulseWrite[]): Promise<{outcomes: (PulseOutcome | undefined)[]; error?: Error}> => {
  const k = ingestKeys(ns)
  const keys = [k.live]
  const seenIndex = new Map<string, number>()
  const parts = writes.map(({pulse, messageId}) => {
    let s = 0
    if (messageId !== undefined) {
      s = seenIndex.get(messageId) ?? 0
      if (s === 0) {
        s = keys.push(k.seen(messageId))
        seenIndex.set(messageId, s)
      }
    }
    return {id: JSON.stringify([pulse.tenant, pulse.product_sku, pulse.use_unity]), ...splitUnits(pulse.units), s}
  })
  const grouped = writes.length <= GROUPED_MAX_PULSES && parts.every((p) => p.whole < GROUPED_WHOLE_LIMIT)
  let reply: [string, string]
  if (grouped) {
    const keyIndex = new Map<string, number>()
    const args: (string | number)[] = []
    for (const p of parts) {
      let i = keyIndex.get(p.id)
      if (i === undefined) keyIndex.set(p.id, (i = keyIndex.size + 1))
      args.push(i, p.whole.toString(), p.frac.toString(), p.s)
    }
    reply = (await runScript(redis, INCREMENT_GROUPED, keys, [SEEN_TTL_SECONDS, keyIndex.size, ...keyIndex.keys(), ...args])) as [string, string]
  } else {
    const args: (string | number)[] = [SEEN_TTL_SECONDS]
    for (const p of parts) args.push(p.id, p.whole.toString(), p.frac.toString(), p.s)
    reply = (await runScript(redis, INCREMENT_EACH, keys, args)) as [string, string]
  }
  const [status, failure] = reply
  const outcomes = writes.map((_, i) => (status[i] === '1' ? 'counted' : status[i] === '0' ? 'duplicate' : undefined))
  if (!failure) return {outcomes}
  const p = writes[outcomes.indexOf(undefined)]!.pulse
  const error = /overflow/i.test(failure)
    ? new AggregateOverflowError(`aggregate ${JSON.stringify([p.tenant, p.product_sku, p.use_unity])} would exceed the live limit; flush first`)
    : new Error(failure)
  return {outcomes, error}
}

/**
 * Adds one pulse to the live aggregates. With a message id the increment happens at most once
 * per id (within SEEN_TTL_SECONDS), atomically with remembering the id.
 */
export const recordPulse = async (redis: Redis, ns: Namespace, pulse: Pulse, messageId?: string): Promise<PulseOutcome> => {
  const {outcomes, error} = await recordPulses(redis, ns, [{pulse, messageId}])
  if (error ?? !outcomes[0]) throw error
  return outcomes[0]!
}

export interface AggregateTotal {
  /** JSON.stringify([tenant, sku, unity]): unique per key. */
  id: string
  key: AggregateKey
  units: bigint
}

/**
 * Every total of an aggregate hash, read by HSCAN so Redis is never blocked long (the live hash, for
 * `GET /ingest/status?top=`). Each key's JSON is parsed once (its `w` and `f` fields share it).
 */
export const scanTotals = async (redis: Redis, hash: string): Promise<AggregateTotal[]> => {
  const parts = new Map<string, {whole?: string; frac?: string}>()
  let cursor = '0'
  do {
    const [next, flat] = await redis.hscan(hash, cursor, 'COUNT', 2000)
    cursor = next
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const field = flat[i]!
      const part = field[0]
      if (part !== 'w' && part !== 'f') continue
      const id = field.slice(1)
      const entry = parts.get(id) ?? {}
      // HSCAN may return a field twice: assigning (not adding) keeps repeats harmless.
      if (part === 'w') entry.whole = flat[i + 1]
      else entry.frac = flat[i + 1]
      parts.set(id, entry)
    }
  } while (cursor !== '0')
  const totals: AggregateTotal[] = []
  for (const [id, p] of parts) {
    const field = parseField(`w${id}`)
    if (!field) continue
    totals.push({id, key: field.key, units: joinUnits(BigInt(p.whole ?? '0'), BigInt(p.frac ?? '0'))})
  }
  return totals
}
