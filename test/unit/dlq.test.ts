import {describe, expect, it} from 'vitest'

import {prefixNamespace} from '../../src/infra/topology/spec.js'
import {ExitCode, UsageError} from '../../src/lib/errors.js'
import {dlqCatalog, replayGroupOf, resolveDlq} from '../../src/operations/dlq/catalog.js'
import {
  bodyText,
  describe as describeMessage,
  errorOf,
  headerText,
  kafkaOriginal,
  rabbitOriginal,
  replayCountOf,
  topErrorClasses,
  withReplayCount,
} from '../../src/operations/dlq/messages.js'
import {batchSizeFor, type Clock, createRateLimiter} from '../../src/operations/dlq/rate.js'
import type {DlqListResult, DlqShowResult, ReplayResult} from '../../src/operations/dlq/types.js'
import {confirmation, renderDlqList, renderDlqReplay, renderDlqShow} from '../../src/ui/text/dlq.js'

describe('DLQ catalog', () => {
  it('has a .dlq twin for every Kafka topic and RabbitMQ queue of the topology', () => {
    const catalog = dlqCatalog()
    expect(catalog.filter((e) => e.broker === 'kafka')).toHaveLength(11)
    expect(catalog.find((e) => e.name === 'order.created.dlq')).toEqual({
      name: 'order.created.dlq',
      broker: 'kafka',
      source: 'order.created',
      base: 'order.created.dlq',
    })
    expect(catalog.find((e) => e.name === 'pulses.dlq')).toMatchObject({broker: 'rabbitmq', source: 'pulses'})
  })

  it('namespaces names, and derives the replay group from the namespaced base', () => {
    const ns = prefixNamespace('t_x_')
    const entry = resolveDlq('t_x_order.paid.dlq', dlqCatalog(ns))
    expect(entry).toMatchObject({source: 't_x_order.paid', base: 'order.paid.dlq'})
    expect(replayGroupOf(entry, ns)).toBe('t_x_mm.dlq-replay.order.paid.dlq')
  })

  it('accepts the DLQ name or the name of its topic/queue', () => {
    expect(resolveDlq('pulses', dlqCatalog()).name).toBe('pulses.dlq')
    expect(resolveDlq('stock.reserved.dlq', dlqCatalog()).name).toBe('stock.reserved.dlq')
  })

  it('rejects an unknown name with a usage error (exit 2) listing the known ones', () => {
    let error: unknown
    try {
      resolveDlq('nope.dlq', dlqCatalog())
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(UsageError)
    expect((error as UsageError).exitCode).toBe(ExitCode.usage)
    expect((error as UsageError).message).toContain('nope.dlq')
    expect((error as UsageError).hint).toContain('order.created.dlq')
    expect((error as UsageError).hint).toContain('customer.order-events.dlq')
  })
})

describe('replay headers', () => {
  it('appends x-replay-count after every other header, keeping their order and bytes', () => {
    const binary = Buffer.from([0xff, 0x00, 0x7f])
    const out = withReplayCount<Buffer | string>({'event-id': Buffer.from('e1'), bin: binary, 'x-error-class': Buffer.from('E')}, '1')
    expect(Object.keys(out)).toEqual(['event-id', 'bin', 'x-error-class', 'x-replay-count'])
    expect(out.bin).toBe(binary)
    expect(out['x-replay-count']).toBe('1')
  })

  it('replaces an existing x-replay-count in place and drops undefined values', () => {
    const out = withReplayCount<unknown>({a: 1, 'x-replay-count': 2, b: undefined, c: 'x'}, 3)
    expect(out).toEqual({a: 1, 'x-replay-count': 3, c: 'x'})
    expect(Object.keys(out)).toEqual(['a', 'x-replay-count', 'c'])
  })

  it('reads the replay count from any header representation', () => {
    expect(replayCountOf(Buffer.from('2'))).toBe(2)
    expect(replayCountOf(3)).toBe(3)
    expect(replayCountOf('4')).toBe(4)
    expect(replayCountOf([Buffer.from('1'), Buffer.from('5')])).toBe(5)
    expect(replayCountOf(undefined)).toBe(0)
    expect(replayCountOf(Buffer.from('many'))).toBe(0)
    expect(replayCountOf(-1)).toBe(0)
  })
})

describe('dead letter views', () => {
  it('shows values as text when they are UTF-8, base64 otherwise', () => {
    expect(bodyText(Buffer.from('{"a":"é"}'))).toEqual({value: '{"a":"é"}', valueEncoding: 'utf8', bytes: 10})
    expect(bodyText(Buffer.from([0xc3, 0x28]))).toEqual({value: 'wyg=', valueEncoding: 'base64', bytes: 2})
    expect(bodyText(null)).toEqual({value: null, valueEncoding: 'utf8', bytes: 0})
  })

  it('renders header values of both brokers as text', () => {
    expect(headerText(Buffer.from('x'))).toBe('x')
    expect(headerText(7)).toBe('7')
    expect(headerText([Buffer.from('a'), Buffer.from('b')])).toBe('a,b')
    expect(headerText([{queue: 'q', count: 1, 'routing-keys': [Buffer.from('rk')]}])).toBe('[{"queue":"q","count":1,"routing-keys":["rk"]}]')
  })

  it("takes the error from mm's x-error-* headers, else from RabbitMQ's x-death", () => {
    expect(errorOf({'x-error-class': 'ValidationError', 'x-error-message': 'bad', 'x-attempts': '3', 'x-failed-at': '2025-01-01T00:00:00.000Z'})).toEqual({
      errorClass: 'ValidationError',
      message: 'bad',
      attempts: 3,
      failedAt: '2025-01-01T00:00:00.000Z',
    })
    expect(errorOf({}, [{reason: 'rejected', count: 2, queue: 'q', time: 1_700_000_000}])).toEqual({
      errorClass: 'dead-lettered:rejected',
      attempts: 2,
      failedAt: '2023-11-14T22:13:20.000Z',
    })
    expect(errorOf({})).toEqual({errorClass: 'unknown'})
  })

  it('finds where a message failed, with the DLQ source as the fallback', () => {
    expect(kafkaOriginal({'x-original-topic': 'a', 'x-original-partition': '2', 'x-original-offset': '9'}, 'src')).toEqual({
      topic: 'a',
      partition: 2,
      offset: '9',
    })
    expect(kafkaOriginal({}, 'src')).toEqual({topic: 'src', partition: undefined, offset: undefined})
    expect(rabbitOriginal({'x-original-queue': 'q', 'x-original-exchange': 'ex', 'x-original-routing-key': 'rk'}, undefined, 'src')).toEqual({
      queue: 'q',
      exchange: 'ex',
      routingKey: 'rk',
    })
    expect(rabbitOriginal({}, [{queue: 'dq', exchange: 'events', 'routing-keys': ['order.created'], reason: 'rejected'}], 'src')).toEqual({
      queue: 'dq',
      exchange: 'events',
      routingKey: 'order.created',
    })
    expect(rabbitOriginal({}, undefined, 'src')).toEqual({queue: 'src', exchange: undefined, routingKey: undefined})
  })

  it('describes a message with its replay count and without x-death in the error', () => {
    const m = describeMessage({
      broker: 'rabbitmq',
      id: '1',
      source: 'q',
      key: 'm-1',
      body: Buffer.from('v'),
      rawHeaders: {'x-replay-count': 2, 'x-death': [{reason: 'expired'}]},
    })
    expect(m).toMatchObject({id: '1', key: 'm-1', value: 'v', replayCount: 2, error: {errorClass: 'dead-lettered:expired'}, original: {queue: 'q'}})
  })

  it('counts the top error classes, most frequent first, ties by name', () => {
    const errors = ['B', 'A', 'C', 'B', 'A', 'D', 'B'].map((errorClass) => ({errorClass}))
    expect(topErrorClasses(errors)).toEqual([
      {errorClass: 'B', count: 3},
      {errorClass: 'A', count: 2},
      {errorClass: 'C', count: 1},
    ])
    expect(topErrorClasses([])).toEqual([])
  })
})

const fakeClock = () => {
  let now = 1000
  const sleeps: number[] = []
  const clock: Clock = {
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms)
      now += ms
    },
  }
  return {clock, sleeps, advance: (ms: number) => (now += ms)}
}

describe('replay rate limiter', () => {
  it('never waits without a rate', async () => {
    const {clock, sleeps} = fakeClock()
    const limiter = createRateLimiter(undefined, clock)
    for (let i = 0; i < 5; i++) await limiter.wait()
    expect(sleeps).toEqual([])
    expect(batchSizeFor(limiter)).toBe(100)
  })

  it('spaces messages by 1/rate seconds', async () => {
    const {clock, sleeps} = fakeClock()
    const limiter = createRateLimiter(10, clock)
    for (let i = 0; i < 4; i++) await limiter.wait()
    expect(sleeps).toEqual([100, 100, 100])
    expect(batchSizeFor(limiter)).toBe(10)
  })

  it('does not burst to catch up after a slow stretch', async () => {
    const {clock, sleeps, advance} = fakeClock()
    const limiter = createRateLimiter(10, clock)
    await limiter.wait()
    advance(1000) // e.g. a slow broker
    await limiter.wait()
    await limiter.wait()
    expect(sleeps).toEqual([100])
  })

  it('sizes batches to about one second, between 1 and 100 messages', () => {
    expect(batchSizeFor(createRateLimiter(0.5))).toBe(1)
    expect(batchSizeFor(createRateLimiter(5000))).toBe(100)
  })
})

describe('DLQ text', () => {
  it('needs --yes without a terminal (usage error naming the flag)', () => {
    expect(confirmation('replay', true)).toBeUndefined()
    expect(() => confirmation('purge', false)).toThrowError(/--yes/)
    try {
      confirmation('replay', false)
    } catch (error) {
      expect((error as UsageError).exitCode).toBe(ExitCode.usage)
    }
  })

  it('renders the list with counts and top errors', () => {
    const result: DlqListResult = {
      total: 3,
      dlqs: [
        {
          name: 'order.created.dlq',
          broker: 'kafka',
          source: 'order.created',
          messages: 3,
          approximate: false,
          topErrors: [{errorClass: 'ValidationError', count: 3}],
          scanned: 3,
        },
        {name: 'pulses.dlq', broker: 'rabbitmq', source: 'pulses', messages: 0, approximate: false, topErrors: [], scanned: 0},
      ],
    }
    const text = renderDlqList(result)
    expect(text).toMatch(/order\.created\.dlq\s+kafka\s+3\s+ValidationError ×3/)
    expect(text).toContain('3 dead letters in 1 DLQ')
  })

  it('says what a replay did, and what a dry run would do', () => {
    const base: ReplayResult = {
      dlq: 'd',
      broker: 'kafka',
      source: 's',
      dryRun: false,
      declined: false,
      snapshot: 5,
      approximate: false,
      maxReplays: 3,
      replayed: 4,
      skipped: 1,
      destinations: {s: 4},
      interrupted: false,
      durationMs: 20,
    }
    expect(renderDlqReplay(base)).toContain('replayed 4 messages from d to s (4); 1 message at --max-replays 3 left in d')
    expect(renderDlqReplay({...base, dryRun: true})).toMatch(/^Dry run: would replay 4 messages of 5 .*Nothing changed\.$/)
    expect(renderDlqReplay({...base, interrupted: true})).toContain('run the same command again')
  })

  it('shows each message with its error, origin and a one-line value', () => {
    const kafkaItem = describeMessage({
      broker: 'kafka',
      id: '1/7',
      source: 'order.created',
      key: 'o-1',
      body: Buffer.from('{\n  "a": 1\n}'),
      rawHeaders: {
        'x-original-topic': Buffer.from('order.created'),
        'x-original-partition': Buffer.from('2'),
        'x-original-offset': Buffer.from('41'),
        'x-error-class': Buffer.from('ValidationError'),
        'x-error-message': Buffer.from('bad'),
        'x-attempts': Buffer.from('6'),
        'x-replay-count': Buffer.from('1'),
      },
      partition: 1,
      offset: '7',
    })
    const show: DlqShowResult = {
      dlq: 'order.created.dlq',
      broker: 'kafka',
      source: 'order.created',
      messages: 3,
      approximate: false,
      shown: 1,
      items: [kafkaItem],
    }
    const text = renderDlqShow(show)
    expect(text).toContain('order.created.dlq (kafka, from order.created): 3 pending, showing the first 1')
    expect(text).toContain('[1]@7  key o-1')
    expect(text).toContain('error    ValidationError: bad (6 attempts)')
    expect(text).toContain('from     order.created[2]@41')
    expect(text).toContain('replays  1')
    expect(text).toContain('value    { "a": 1 }')
  })
})
