import {describe, expect, it} from 'vitest'

import type {PlatformStatus} from '../../src/operations/status.js'
import {addSample, TREND_MEASURES, trendsJson} from '../../src/operations/collectors/trends.js'
import {sparkline} from '../../src/ui/dash/trends.js'

const status = (handled: number, http: number, lag?: number, lagSeconds?: number): PlatformStatus =>
  ({
    runtime: 'native',
    healthy: true,
    servers: [],
    supervisor: {running: true},
    runners: [
      {name: 'order', counters: {handled, failed: 1, retried: 0, deadLettered: 0, httpRequests: http}},
      {name: 'query', counters: {handled: handled * 2, failed: 0, retried: 0, deadLettered: 0, httpRequests: 0}},
    ],
    platform:
      lag === undefined
        ? undefined
        : {
            at: '',
            queues: {rabbitmq: {queues: []}, kafka: {lag: [{group: 'query', topic: 'order.created', lag, committed: 0, end: 0}], dlqs: []}},
            projections: {drift: [], lagSeconds},
            aggregates: {error: 'x'},
          },
  }) as unknown as PlatformStatus

describe('dashboard trends', () => {
  it('turns consecutive polls into rates; the first poll only sets the base; restarts give no negative rate', () => {
    let h = addSample([], undefined, {at: 1000, status: status(10, 5)})
    expect(h).toEqual([])
    h = addSample(h, {at: 1000, status: status(10, 5)}, {at: 3000, status: status(30, 25, 7, 0.4)})
    expect(h).toEqual([{at: 3000, eventsPerSec: 30, httpPerSec: 10, kafkaLag: 7, readModelLagSec: 0.4}])
    h = addSample(h, {at: 3000, status: status(30, 25)}, {at: 4000, status: status(0, 0)})
    expect(h.at(-1)).toMatchObject({eventsPerSec: 0, httpPerSec: 0, kafkaLag: undefined})
    expect(addSample(h, {at: 4000, status: status(0, 0)}, {at: 4000, status: status(9, 9)})).toHaveLength(2)
  })

  it('keeps only the newest samples', () => {
    let h = addSample([], undefined, {at: 0, status: status(0, 0)})
    for (let i = 1; i <= 10; i++) h = addSample(h, {at: (i - 1) * 1000, status: status(i - 1, 0)}, {at: i * 1000, status: status(i, 0)}, 4)
    expect(h.map((s) => s.at)).toEqual([7000, 8000, 9000, 10000])
  })

  it('draws sparklines scaled to their maximum, blank where a value is missing, right-aligned', () => {
    expect(sparkline([0, 1, 2, 4, 8], 5)).toBe('▁▁▂▄█')
    expect(sparkline([0, 0], 4)).toBe('  ▁▁')
    expect(sparkline([3, undefined, 3], 3)).toBe('█ █')
    expect(sparkline([1, 2, 3, 4, 5, 6], 3)).toBe('▆▇█')
  })
})

describe("mm dash --json's trends", () => {
  it('gives each measure its current value, maximum and series, rounded to hundredths, null where a poll had none', () => {
    const h = addSample(
      addSample([], {at: 0, status: status(0, 0)}, {at: 3000, status: status(1, 1, 5, 0.123)}),
      {at: 3000, status: status(1, 1)},
      {at: 6000, status: status(2, 3)},
    )
    expect(trendsJson(h, 3000)).toEqual({
      intervalMs: 3000,
      at: ['1970-01-01T00:00:03.000Z', '1970-01-01T00:00:06.000Z'],
      measures: {
        eventsPerSec: {label: 'events/s', unit: 'events/s', current: 1, max: 1, series: [1, 1]},
        httpPerSec: {label: 'http req/s', unit: 'requests/s', current: 0.67, max: 0.67, series: [0.33, 0.67]},
        kafkaLag: {label: 'kafka lag', unit: 'messages', current: null, max: 5, series: [5, null]},
        readModelLagSec: {label: 'read-model lag', unit: 's', current: null, max: 0.12, series: [0.12, null]},
      },
    })
    expect(Object.keys(trendsJson([], 1000).measures)).toEqual(TREND_MEASURES.map((m) => m.key))
    expect(trendsJson([], 1000).measures.eventsPerSec).toEqual({label: 'events/s', unit: 'events/s', current: null, max: null, series: []})
  })
})
