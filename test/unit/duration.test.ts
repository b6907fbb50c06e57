import {describe, expect, it} from 'vitest'

import {formatDuration, parseDuration} from '../../src/lib/duration.js'

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['0ms', 0],
    ['30s', 30_000],
    ['1.5s', 1500],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['1.5h', 5_400_000],
  ])('parses a single unit: %s → %i ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms)
  })

  it.each([
    ['1m30s', 90_000],
    ['1h2m3s500ms', 3_723_500],
    ['2m500ms', 120_500],
  ])('sums combined units: %s → %i ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms)
  })

  it.each([
    ['30', 30_000],
    ['0', 0],
    ['1.5', 1500],
  ])('reads a bare numeric string as seconds: %s → %i ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms)
  })

  it('reads a number as seconds', () => {
    expect(parseDuration(30)).toBe(30_000)
    expect(parseDuration(0.25)).toBe(250)
    expect(parseDuration(0)).toBe(0)
  })

  it('ignores surrounding whitespace', () => {
    expect(parseDuration('  45s ')).toBe(45_000)
    expect(parseDuration(' 12 ')).toBe(12_000)
  })

  it.each(['', '   ', 'abc', 's', 'ms', '5x', '5 s', '1m 30s', '1m30', '30s!', 'x30s', '1e3', '.5s', '1,5s', '5S', '1d'])(
    'rejects garbage %j with undefined',
    (input) => {
      expect(parseDuration(input)).toBeUndefined()
    },
  )

  it.each(['-5', '-5s', '-1m30s', '1m-30s'])('rejects a negative duration %j', (input) => {
    expect(parseDuration(input)).toBeUndefined()
  })

  it('rejects negative, NaN and infinite numbers', () => {
    expect(parseDuration(-1)).toBeUndefined()
    expect(parseDuration(Number.NaN)).toBeUndefined()
    expect(parseDuration(Number.POSITIVE_INFINITY)).toBeUndefined()
  })
})

describe('formatDuration', () => {
  it.each([
    [0, '0ms'],
    [1, '1ms'],
    [250, '250ms'],
    [999, '999ms'],
    [12.4, '12ms'],
  ])('formats under a second in ms: %d → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text)
  })

  it.each([
    [1000, '1.0s'],
    [1500, '1.5s'],
    [9400, '9.4s'],
    [10_000, '10s'],
    [45_000, '45s'],
    [59_000, '59s'],
  ])('formats under a minute in seconds (one decimal below 10s): %d → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text)
  })

  it.each([
    [60_000, '1m00s'],
    [90_000, '1m30s'],
    [125_000, '2m05s'],
    [3_599_000, '59m59s'],
  ])('formats under an hour as minutes and padded seconds: %d → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text)
  })

  it.each([
    [3_600_000, '1h00m'],
    [5_400_000, '1h30m'],
    [3_600_000 * 25 + 7 * 60_000, '25h07m'],
  ])('formats an hour or more as hours and padded minutes: %d → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text)
  })

  it('round-trips what it formats for whole minutes and seconds', () => {
    for (const ms of [250, 30_000, 90_000, 125_000]) expect(parseDuration(formatDuration(ms))).toBe(ms)
  })
})
