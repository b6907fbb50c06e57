import {Redis} from 'ioredis'
import pg from 'pg'
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'

import {AggregateOverflowError, recordPulse, recordPulses} from '../../services/ingest/aggregate.js'
import {flushNow, type FlushHooks} from '../../services/ingest/flush.js'
import {silentLogger} from '../../src/lib/logger.js'
import {eventually, startTestPlatform, type TestPlatform} from './harness.js'

type Key = [string, string, string]
const KEYS: Key[] = [
  ['acme', 'sku:1', 'kWh'],
  ['ünï', '😀', 'a"b'],
  ['x:y', 'z', 'u'],
  ['x', 'y:z', 'u'],
]

/**
 * Flush exactly-once (PLATFORM.md §3.5, services/ingest/FLUSH.md) against real Redis and
 * PostgreSQL: crashes injected between the steps, increments during a flush, concurrent flushes.
 */
describe('ingest flush', () => {
  let p: TestPlatform
  const clients: {pool: pg.Pool; redis: Redis}[] = []
  let oracle: Map<string, bigint> // what was recorded, in 10^-12 units, summed with BigInt here
  const side = (i: number) => ({pool: clients[i]!.pool, redis: clients[i]!.redis, ns: p.ns, logger: silentLogger})
  const flush = (hooks?: FlushHooks, i = 0) => flushNow({...side(i), hooks})

  /** Records `units` for `key` through the consumer's write path, and in the oracle. */
  const add = async (key: Key, units: bigint, i = 0) => {
    await recordPulse(clients[i]!.redis, p.ns, {tenant: key[0], product_sku: key[1], use_unity: key[2], units})
    oracle.set(JSON.stringify(key), (oracle.get(JSON.stringify(key)) ?? 0n) + units)
  }
  const addRound = async (round: number) => {
    for (const [j, key] of KEYS.entries()) await add(key, BigInt(round * 1000 + j) * 100_000_000_000n + 1n) // x.x00000000001
  }
  const stored = async (): Promise<Map<string, bigint>> => {
    const {rows} = await clients[0]!.pool.query<{t: string; s: string; u: string; a: string}>(
      'SELECT tenant t, product_sku s, use_unity u, used_amount::text a FROM ingest.pulses',
    )
    return new Map(rows.map((r) => [JSON.stringify([r.t, r.s, r.u]), toUnits(r.a)]))
  }
  const expectExact = async () => expect(await stored()).toEqual(new Map([...oracle].filter(([, v]) => v > 0n)))
  const pendingSnapshots = () => clients[0]!.redis.scard(p.ns('ingest:flush:pending'))
  const crash = (where: keyof FlushHooks): FlushHooks => ({
    [where]: () => {
      throw new Error(`crash ${where}`)
    },
  })

  beforeAll(async () => {
    p = await startTestPlatform({label: 'ingest-flush', runners: []})
    for (let i = 0; i < 2; i++) {
      const pool = new pg.Pool({connectionString: p.endpoints.postgres, max: 4})
      const redis = new Redis(p.endpoints.redis)
      clients.push({pool, redis})
    }
  })
  afterAll(async () => {
    for (const c of clients) {
      await c.pool.end()
      c.redis.disconnect()
    }
    await p?.stop()
  })
  beforeEach(async () => {
    await clients[0]!.pool.query('TRUNCATE ingest.pulses, ingest.flushes')
    oracle = new Map()
    expect(await pendingSnapshots()).toBe(0)
  })

  for (const where of ['afterSnapshot', 'beforeCommit'] as const) {
    it(`a crash ${where} loses nothing: the next flush applies the snapshot`, async () => {
      await addRound(1)
      await expect(flush(crash(where))).rejects.toThrow(`crash ${where}`)
      expect(await stored()).toEqual(new Map())
      expect(await pendingSnapshots()).toBe(1)
      await addRound(2) // new increments go to a new live hash meanwhile
      const result = await flush()
      expect(result.resumed).toHaveLength(1)
      expect(result.keys).toBe(2 * KEYS.length) // the resumed snapshot, then a fresh one
      await expectExact()
      expect(await pendingSnapshots()).toBe(0)
    })
  }

  it('a crash after the commit and before the cleanup is not counted twice', async () => {
    await addRound(1)
    await expect(flush(crash('afterCommit'))).rejects.toThrow('crash afterCommit')
    await expectExact()
    expect(await pendingSnapshots()).toBe(1)
    const resumed = await flush()
    expect(resumed).toMatchObject({keys: 0, rows: 0})
    expect(resumed.resumed).toHaveLength(1)
    await expectExact()
    await addRound(2)
    await flush()
    await expectExact()
    const {rows} = await clients[0]!.pool.query('SELECT keys, rows_written FROM ingest.flushes ORDER BY applied_at')
    expect(rows).toEqual([
      {keys: KEYS.length, rows_written: KEYS.length},
      {keys: KEYS.length, rows_written: KEYS.length},
    ])
  })

  it('keeps increments that arrive during a flush for the next flush', async () => {
    await addRound(1)
    const first = new Map(oracle)
    await flush({beforeCommit: () => addRound(2)})
    expect(await stored()).toEqual(first)
    await flush()
    await expectExact()
  })

  it('two flushes at once (Promise.all) never apply the same data twice', async () => {
    for (let round = 1; round <= 5; round++) {
      await addRound(round)
      const results = await Promise.all([flush(), flush()])
      expect(results[0].keys + results[1].keys).toBe(KEYS.length)
      await expectExact()
    }
  })

  it('a flush resuming a snapshot being committed elsewhere waits for it, then skips or applies it', async () => {
    for (const outcome of ['commit', 'rollback'] as const) {
      await addRound(outcome === 'commit' ? 1 : 2)
      let release!: () => void
      const gate = new Promise<void>((r) => (release = r))
      let reached!: () => void
      const atCommit = new Promise<void>((r) => (reached = r))
      const a = flush({
        beforeCommit: async () => {
          reached()
          await gate
          if (outcome === 'rollback') throw new Error('crash beforeCommit')
        },
      })
      await atCommit
      const b = flush(undefined, 1) // separate Redis and PostgreSQL clients, as another process
      await eventually(
        async () => {
          const {rows} = await clients[0]!.pool.query(
            "SELECT count(*)::int n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
          )
          return rows[0].n > 0
        },
        {what: 'the second flush blocked on the ledger row'},
      )
      release()
      const [ra, rb] = await Promise.allSettled([a, b])
      if (outcome === 'commit') {
        expect(ra.status === 'fulfilled' && rb.status === 'fulfilled' && [ra.value.keys, rb.value.keys, rb.value.rows]).toEqual([KEYS.length, 0, 0])
      } else {
        expect(ra.status).toBe('rejected')
        expect(rb.status === 'fulfilled' && rb.value.keys).toBe(KEYS.length)
      }
      await expectExact()
      expect(await pendingSnapshots()).toBe(0)
    }
  })

  it('refuses an increment beyond 64-bit whole units atomically, leaving the total and the message id untouched', async () => {
    const key: Key = ['big', 'sku', 'u']
    const max = (2n ** 63n - 1n) * 10n ** 12n
    await add(key, max + 500_000_000_000n) // 9223372036854775807.5
    const r = clients[0]!.redis
    const before = await r.hgetall(p.ns('ingest:agg'))
    const pulse = {tenant: key[0], product_sku: key[1], use_unity: key[2]}
    await expect(recordPulse(r, p.ns, {...pulse, units: 10n ** 12n}, 'm-over')).rejects.toThrow(AggregateOverflowError)
    await expect(recordPulse(r, p.ns, {...pulse, units: 500_000_000_000n}, 'm-carry')).rejects.toThrow(AggregateOverflowError) // via the carry
    expect(await r.hgetall(p.ns('ingest:agg'))).toEqual(before)
    expect(await r.exists(p.ns('ingest:seen:m-over'), p.ns('ingest:seen:m-carry'))).toBe(0)
    await flush()
    await add(key, 10n ** 12n)
    expect(await recordPulse(r, p.ns, {...pulse, units: 500_000_000_000n}, 'm-carry')).toBe('counted')
    oracle.set(JSON.stringify(key), oracle.get(JSON.stringify(key))! + 500_000_000_000n)
    await flush()
    await expectExact()
  })

  it('moves many keys chunk by chunk (COPY, then one statement per chunk) exactly, new rows and existing ones, whatever their characters', async () => {
    const chunks = {pageFields: 64, chunkKeys: 100} // many pages and chunks; a key's two fields often in different pages
    const keys: Key[] = Array.from({length: 1500}, (_, i) => [`t${i % 13}\t\\N`, `s\n${i}\r\\.`, i % 2 ? 'u' : 'ü"\\😀'])
    const addAll = async (round: number, which: Key[]) => {
      for (let i = 0; i < which.length; i += 500) {
        const batch = which.slice(i, i + 500).map((key, j) => ({key, units: BigInt(round * 7 + ((i + j) % 11)) * 123_456_789_012n + BigInt(j)}))
        const {outcomes} = await recordPulses(
          clients[0]!.redis,
          p.ns,
          batch.map(({key, units}) => ({pulse: {tenant: key[0], product_sku: key[1], use_unity: key[2], units}})),
        )
        expect(outcomes.every((o) => o === 'counted')).toBe(true)
        for (const {key, units} of batch) oracle.set(JSON.stringify(key), (oracle.get(JSON.stringify(key)) ?? 0n) + units)
      }
    }
    await addAll(1, keys.slice(0, 1000))
    await expect(flushNow({...side(0), chunks, hooks: crash('beforeCommit')})).rejects.toThrow('crash beforeCommit')
    expect(await stored()).toEqual(new Map()) // every chunk rolled back with the transaction
    const first = await flushNow({...side(0), chunks})
    expect(first).toMatchObject({keys: 1000, rows: 1000})
    await expectExact()
    await addAll(2, keys) // 1000 existing rows, 500 new
    expect(await flushNow({...side(1), chunks})).toMatchObject({keys: 1500, rows: 1500})
    await expectExact()
    // Mostly new keys and a few existing ones, in many small chunks: some chunks go straight in,
    // the one meeting an existing row is rolled back to its savepoint and upserted, as all after it.
    const more: Key[] = Array.from({length: 1500}, (_, i) => [`n${i}`, 's', 'u'])
    await addAll(3, [...more, keys[3]!, keys[700]!, keys[1499]!])
    expect(await flushNow({...side(0), chunks: {pageFields: 16, chunkKeys: 20}})).toMatchObject({keys: 1503, rows: 1503})
    await expectExact()
    const {rows} = await clients[0]!.pool.query('SELECT keys, rows_written FROM ingest.flushes ORDER BY applied_at')
    expect(rows).toEqual([
      {keys: 1000, rows_written: 1000},
      {keys: 1500, rows_written: 1500},
      {keys: 1503, rows_written: 1503},
    ])
  })

  it('flushes from two processes while pulses stream in apply everything exactly once', async () => {
    let writing = true
    const writer = (async () => {
      for (let i = 0; i < 400; i++) await add(KEYS[i % KEYS.length]!, 100_000_000_000n * BigInt(1 + (i % 7)) + BigInt(i), i % 2)
      writing = false
    })()
    const flusher = async (i: number) => {
      let runs = 0
      while (writing || runs === 0) {
        await flushNow(side(i))
        runs++
      }
      return runs
    }
    const [, runsA, runsB] = await Promise.all([writer, flusher(0), flusher(1)])
    expect(runsA + runsB).toBeGreaterThan(2)
    await flush()
    await expectExact()
    expect(await clients[0]!.redis.exists(p.ns('ingest:agg'))).toBe(0)
  })
})

/** PostgreSQL numeric text ("14.300000000001") to 10^-12 units, independently of services/ingest. */
const toUnits = (text: string): bigint => {
  const [whole = '0', frac = ''] = text.split('.')
  return BigInt(whole) * 10n ** 12n + BigInt(frac.padEnd(12, '0').slice(0, 12) || '0')
}
