import {describe, expect, it} from 'vitest'

import {AmountError, formatAmount, MAX_PULSE_UNITS, normalizeDecimal, parseAmount, splitUnits, joinUnits, UNIT} from '../../services/ingest/decimal.js'

const sum = (...texts: string[]) => formatAmount(texts.map(parseAmount).reduce((a, b) => a + b, 0n))

describe('ingest exact decimal amounts', () => {
  it('adds 0.1 and 0.2 to exactly 0.3', () => {
    expect(sum('0.1', '0.2')).toBe('0.3')
    expect(0.1 + 0.2).not.toBe(0.3) // the float pitfall this module exists for
  })

  it('adds 0.1 ten thousand times to exactly 1000', () => {
    expect(sum(...Array.from({length: 10_000}, () => '0.1'))).toBe('1000')
  })

  it('parses integers, fractions and zero spellings into 10^-12 units', () => {
    expect(parseAmount('1')).toBe(UNIT)
    expect(parseAmount('0.1')).toBe(100_000_000_000n)
    expect(parseAmount('0.000000000001')).toBe(1n)
    expect(parseAmount('123.456')).toBe(123_456_000_000_000n)
    for (const zero of ['0', '-0', '0.0', '-0.000', '0e10', '0E-99999999']) expect(parseAmount(zero)).toBe(0n)
  })

  it('keeps all 12 decimal places and accepts trailing zeros beyond them', () => {
    expect(formatAmount(parseAmount('0.123456789012'))).toBe('0.123456789012')
    expect(formatAmount(parseAmount('1.1000000000000000'))).toBe('1.1')
  })

  it('rejects more than 12 significant decimal places', () => {
    expect(() => parseAmount('0.0000000000001')).toThrow(/more than 12 decimal places/)
    expect(() => parseAmount('1.1234567890123')).toThrow(AmountError)
  })

  it('evaluates exponent forms exactly', () => {
    expect(parseAmount('1e-7')).toBe(100_000n)
    expect(parseAmount('1E-12')).toBe(1n)
    expect(parseAmount('2.5e3')).toBe(2500n * UNIT)
    expect(parseAmount('2.5E+3')).toBe(2500n * UNIT)
    expect(parseAmount('100e-14')).toBe(1n)
    expect(parseAmount('12345e-2')).toBe(parseAmount('123.45'))
    expect(() => parseAmount('1e-13')).toThrow(/more than 12 decimal places/)
    expect(() => parseAmount('1.5e-12')).toThrow(/more than 12 decimal places/)
    expect(() => parseAmount('1e999')).toThrow(/too large/)
    expect(() => parseAmount('1e-99999999')).toThrow(/more than 12 decimal places/)
    expect(() => parseAmount('1e99999999')).toThrow(/too large/)
  })

  it('handles big values exactly up to the documented maximum', () => {
    expect(parseAmount('9223372036854775807.999999999999')).toBe(MAX_PULSE_UNITS)
    expect(formatAmount(MAX_PULSE_UNITS)).toBe('9223372036854775807.999999999999')
    expect(() => parseAmount('9223372036854775808')).toThrow(/too large/)
    expect(sum('9007199254740993', '0.000000000001')).toBe('9007199254740993.000000000001') // beyond 2^53
  })

  it('rejects negatives and anything that is not a JSON number', () => {
    expect(() => parseAmount('-0.1')).toThrow(/negative/)
    expect(() => parseAmount('-1e-7')).toThrow(/negative/)
    for (const bad of ['', 'abc', '"1"', '+1', '01', '1.', '.5', 'NaN', 'Infinity', '1e', '0x10', '1_000']) {
      expect(() => parseAmount(bad), bad).toThrow(AmountError)
    }
  })

  it('formats units as the shortest exact decimal', () => {
    expect(formatAmount(0n)).toBe('0')
    expect(formatAmount(UNIT * 7n)).toBe('7')
    expect(formatAmount(1n)).toBe('0.000000000001')
    expect(formatAmount(-UNIT / 2n)).toBe('-0.5')
  })

  it('normalises PostgreSQL numeric text', () => {
    expect(normalizeDecimal('0.300000000000')).toBe('0.3')
    expect(normalizeDecimal('100.000000000000')).toBe('100')
    expect(normalizeDecimal('0.000000000000')).toBe('0')
    expect(normalizeDecimal('42')).toBe('42')
  })

  it('splits into whole and fraction and back', () => {
    const u = parseAmount('123.000000000456')
    expect(splitUnits(u)).toEqual({whole: 123n, frac: 456n})
    expect(joinUnits(123n, 456n)).toBe(u)
  })
})
