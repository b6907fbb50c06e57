import {describe, expect, it} from 'vitest'

import {UsageError} from '../../src/lib/errors.js'
import {createPacer, seededRandom} from '../../src/operations/load/schedule.js'
import {holds, parseThreshold} from '../../src/operations/load/thresholds.js'

describe('open-model pacer', () => {
  it('hands out each index once, never more than --total, however many callers at once', async () => {
    const pacer = createPacer({rate: 0, total: 10, signal: new AbortController().signal})
    const got: number[] = []
    await Promise.all(
      Array.from({length: 5}, async () => {
        for (;;) {
          const i = await pacer.next()
          if (i === undefined) return
          got.push(i)
        }
      }),
    )
    expect(got.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
  })

  it('schedules arrival i at start + i/rate, whatever earlier arrivals did', async () => {
    let clock = 1000
    const pacer = createPacer({rate: 100, durationMs: 50, signal: new AbortController().signal, now: () => clock})
    const indices: number[] = []
    for (;;) {
      const i = await pacer.next()
      if (i === undefined) break
      indices.push(i)
      clock += 10 // the caller is slow: each arrival is already due when asked for
    }
    expect(indices).toEqual([0, 1, 2, 3, 4])
  })

  it('stops when aborted', async () => {
    const controller = new AbortController()
    const pacer = createPacer({rate: 1, total: 100, signal: controller.signal})
    expect(await pacer.next()).toBe(0)
    controller.abort()
    expect(await pacer.next()).toBeUndefined()
  })

  it('a seed gives the same sequence', () => {
    const a = seededRandom(7)
    const b = seededRandom(7)
    expect(Array.from({length: 5}, a)).toEqual(Array.from({length: 5}, b))
    expect(Array.from({length: 5}, seededRandom(8))).not.toEqual(Array.from({length: 5}, seededRandom(7)))
  })
})

describe('thresholds', () => {
  it.each([
    ['p99<200ms', 'p99', '<', 200],
    ['p50<=1s', 'p50', '<=', 1000],
    ['max < 2s', 'max', '<', 2000],
    ['errors<1%', 'errors', '<', 1],
    ['rate>=90', 'rate', '>=', 90],
    ['p99.9<250', 'p99.9', '<', 250],
  ])('reads %s', (expr, metric, op, value) => {
    expect(parseThreshold(expr)).toMatchObject({metric, op, value})
  })

  it.each(['p99 under 2', 'errors<1ms', 'rate>5%', 'p99<', 'latency<1s'])('rejects %j with a usage error saying how to write it', (expr) => {
    expect(() => parseThreshold(expr)).toThrow(UsageError)
  })

  it('holds compares with the operator', () => {
    expect(holds(parseThreshold('p99<200ms'), 199)).toBe(true)
    expect(holds(parseThreshold('p99<200ms'), 200)).toBe(false)
    expect(holds(parseThreshold('rate>=90'), 90)).toBe(true)
  })
})
