import {describe, expect, it} from 'vitest'

import {PoisonMessageError} from '../../services/shared/errors.js'
import {parsePulse, topLevelTokens} from '../../services/ingest/pulse.js'

const body = (amount: string, fields: Record<string, unknown> = {}) =>
  `{"tenant":${JSON.stringify(fields.tenant ?? 'acme')},"product_sku":${JSON.stringify(fields.product_sku ?? 'sku-1')},"use_unity":${JSON.stringify(fields.use_unity ?? 'kWh')},"used_amount":${amount}}`

const reason = (text: string): string => {
  try {
    parsePulse(text)
  } catch (error) {
    expect(error).toBeInstanceOf(PoisonMessageError)
    return (error as Error).message
  }
  throw new Error(`accepted: ${text}`)
}

describe('ingest pulse parsing', () => {
  it('reads the amount from the raw number text, not through a float', () => {
    // As a float this is 9007199254740992; the raw text keeps the last digit.
    expect(parsePulse(body('9007199254740993.000000000001')).units).toBe(9007199254740993_000000000001n)
    expect(parsePulse(Buffer.from(body('0.1'))).units).toBe(100_000_000_000n)
  })

  it('keeps awkward key strings intact', () => {
    const fields = {tenant: 'a:b "c" \\ d', product_sku: 'ünï:😀', use_unity: '{"x":[1,2]}'}
    const p = parsePulse(body('1', fields))
    expect([p.tenant, p.product_sku, p.use_unity]).toEqual([fields.tenant, fields.product_sku, fields.use_unity])
  })

  it('tolerates whitespace, field order and extra fields', () => {
    const p = parsePulse(' {\n "used_amount" : 1e-7 ,"extra":{"used_amount":[1,"}"]}, "use_unity":"u", "product_sku":"s","tenant":"t" } ')
    expect(p).toEqual({tenant: 't', product_sku: 's', use_unity: 'u', units: 100_000n})
  })

  it('names the reason of every invalid pulse', () => {
    expect(reason('not json')).toBe('body is not JSON')
    expect(reason('[1]')).toBe('body must be a JSON object')
    expect(reason('null')).toBe('body must be a JSON object')
    expect(reason('{"product_sku":"s","use_unity":"u","used_amount":1}')).toBe('tenant is missing')
    expect(reason(body('1', {tenant: ''}))).toBe('tenant must not be empty')
    expect(reason(body('1', {product_sku: 5}))).toBe('product_sku must be a string')
    expect(reason(body('1', {use_unity: 'a\u0000b'}))).toBe('use_unity must not contain NUL characters')
    expect(reason(body('1', {tenant: '\ud800'}))).toBe('tenant contains an unpaired UTF-16 surrogate')
    expect(reason('{"tenant":"t","product_sku":"s","use_unity":"u"}')).toBe('used_amount is missing')
    expect(reason(body('"0.1"'))).toMatch(/used_amount must be a JSON number/)
    expect(reason(body('null'))).toMatch(/used_amount must be a JSON number/)
    expect(reason(body('-1'))).toMatch(/negative/)
    expect(reason(body('1e400'))).toMatch(/too large/)
    expect(reason(body('0.0000000000001'))).toMatch(/more than 12 decimal places/)
    expect(reason('{"tenant":"t","tenant":"t2","product_sku":"s","use_unity":"u","used_amount":1}')).toBe('tenant appears more than once')
    expect(reason('{"tenant":"t","product_sku":"s","use_unity":"u","used_amount":1,"used_amount":2}')).toBe('used_amount appears more than once')
  })

  it('tokenises only the top level, decoding escaped keys', () => {
    const tokens = topLevelTokens('{"a\\u0062":[{"c":"]"}],"d":"x\\"y","e":-1.5e3}')
    expect(Object.fromEntries(tokens)).toEqual({ab: ['[{"c":"]"}]'], d: ['"x\\"y"'], e: ['-1.5e3']})
  })
})
