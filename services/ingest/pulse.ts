import {jsonBodyText} from '../shared/amqp-body.js'
import {PoisonMessageError} from '../shared/errors.js'
import {AmountError, parseAmount} from './decimal.js'

/** One usage pulse, validated; `units` is the amount in 10^-12 units (see decimal.ts). */
export interface Pulse {
  tenant: string
  product_sku: string
  use_unity: string
  units: bigint
}

export const KEY_FIELDS = ['tenant', 'product_sku', 'use_unity'] as const

// A lone UTF-16 surrogate cannot be stored as UTF-8 text: PostgreSQL would receive U+FFFD and two
// different keys could collapse into one row. In a `u` regex \p{Cs} matches only unpaired ones.
const LONE_SURROGATE = /\p{Cs}/u

/**
 * Parses and validates a pulse body (with the message's properties: a declared content type must
 * be JSON, and the bytes UTF-8). Anything that can never be processed throws PoisonMessageError
 * with a reason naming the field; the consumer dead-letters it at once.
 * The amount is read from the raw text of the JSON number, never through a float.
 */
export const parsePulse = (body: Buffer | string, properties?: {contentType?: unknown; contentEncoding?: unknown}): Pulse => {
  const text = typeof body === 'string' ? body : jsonBodyText(body, properties)
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new PoisonMessageError('body is not JSON')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new PoisonMessageError('body must be a JSON object')
  const raw = topLevelTokens(text)
  const obj = value as Record<string, unknown>
  const keys: string[] = []
  for (const field of KEY_FIELDS) {
    const v = obj[field]
    if (v === undefined) throw new PoisonMessageError(`${field} is missing`)
    if (typeof v !== 'string') throw new PoisonMessageError(`${field} must be a string`)
    if (v === '') throw new PoisonMessageError(`${field} must not be empty`)
    if (v.includes('\u0000')) throw new PoisonMessageError(`${field} must not contain NUL characters`)
    if (LONE_SURROGATE.test(v)) throw new PoisonMessageError(`${field} contains an unpaired UTF-16 surrogate`)
    if ((raw.get(field)?.length ?? 0) > 1) throw new PoisonMessageError(`${field} appears more than once`)
    keys.push(v)
  }
  const amount = raw.get('used_amount')
  if (amount === undefined) throw new PoisonMessageError('used_amount is missing')
  if (amount.length > 1) throw new PoisonMessageError('used_amount appears more than once')
  const token = amount[0]!
  if (!/^-?[0-9]/.test(token)) throw new PoisonMessageError(`used_amount must be a JSON number (got ${token.slice(0, 40)})`)
  try {
    return {tenant: keys[0]!, product_sku: keys[1]!, use_unity: keys[2]!, units: parseAmount(token)}
  } catch (error) {
    if (error instanceof AmountError) throw new PoisonMessageError(error.message)
    throw error
  }
}

/**
 * The raw text of every top-level value of a JSON object, by decoded key (a key that appears
 * twice keeps both). Only called on text JSON.parse accepted, so the scan can be simple.
 */
export const topLevelTokens = (text: string): Map<string, string[]> => {
  const out = new Map<string, string[]>()
  let i = skipWs(text, 0)
  if (text[i] !== '{') return out
  i = skipWs(text, i + 1)
  while (i < text.length && text[i] !== '}') {
    const keyEnd = endOfString(text, i)
    const key = JSON.parse(text.slice(i, keyEnd)) as string
    i = skipWs(text, keyEnd)
    i = skipWs(text, i + 1) // the ':'
    const valueEnd = endOfValue(text, i)
    const list = out.get(key) ?? []
    list.push(text.slice(i, valueEnd))
    out.set(key, list)
    i = skipWs(text, valueEnd)
    if (text[i] === ',') i = skipWs(text, i + 1)
  }
  return out
}

const skipWs = (s: string, i: number): number => {
  while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === '\n' || s[i] === '\r')) i++
  return i
}

/** `i` is at an opening quote; returns the index after the closing one. */
const endOfString = (s: string, i: number): number => {
  for (let j = i + 1; j < s.length; j++) {
    if (s[j] === '\\') j++
    else if (s[j] === '"') return j + 1
  }
  return s.length
}

const endOfValue = (s: string, i: number): number => {
  if (s[i] === '"') return endOfString(s, i)
  if (s[i] === '{' || s[i] === '[') {
    let depth = 0
    for (let j = i; j < s.length; j++) {
      const c = s[j]
      if (c === '"') j = endOfString(s, j) - 1
      else if (c === '{' || c === '[') depth++
      else if (c === '}' || c === ']') {
        depth--
        if (depth === 0) return j + 1
      }
    }
    return s.length
  }
  let j = i
  while (j < s.length && !/[\s,}\]]/.test(s[j]!)) j++
  return j
}
