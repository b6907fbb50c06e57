import {appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {UsageError, UserError} from '../../src/lib/errors.js'
import {waitFor} from '../../src/lib/proc.js'
import {followLogs, logSources, readLogs} from '../../src/operations/logs.js'

let dataDir: string
let logs: string

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'mm-logs-'))
  logs = join(dataDir, 'logs')
  mkdirSync(logs)
  writeFileSync(join(logs, 'postgres.log'), ['pg 1', 'pg 2', 'pg 3', ''].join('\n'))
  writeFileSync(join(logs, 'redis.log'), 'redis 1\n\nredis 2\n')
  writeFileSync(
    join(logs, 'mm.log'),
    [
      '05:26:04 topology  | topology.applied x=1',
      '05:26:05 ingest    | ingest.ready port=1',
      '05:26:06 topology  | topology.checked y=2',
      '05:26:07 mm        | supervisor.ready pid=9',
      '05:26:08 topologyx | not.topology',
      '05:26:09 product   | product.ready',
      '',
    ].join('\n'),
  )
})

afterEach(() => {
  rmSync(dataDir, {recursive: true, force: true})
})

describe('logSources', () => {
  it('lists every server log and the shared mm.log, mm last', () => {
    const sources = logSources(dataDir, [])
    expect(sources.map((s) => s.name).sort()).toEqual(['mm', 'postgres', 'redis'])
    expect(sources.at(-1)).toEqual({name: 'mm', file: join(logs, 'mm.log')})
    expect(sources.find((s) => s.name === 'postgres')).toEqual({name: 'postgres', file: join(logs, 'postgres.log')})
  })

  it('ignores files that are not .log', () => {
    writeFileSync(join(logs, 'notes.txt'), 'x')
    expect(logSources(dataDir, []).map((s) => s.name)).not.toContain('notes.txt')
  })

  it('keeps the asked order and maps a runner name to a scope of mm.log', () => {
    expect(logSources(dataDir, ['topology', 'redis'])).toEqual([
      {name: 'topology', file: join(logs, 'mm.log'), scope: 'topology'},
      {name: 'redis', file: join(logs, 'redis.log')},
    ])
  })

  it('refuses a name that is no server or runner (exit 2), naming the ones there are', () => {
    expect(() => logSources(dataDir, ['redis', 'bogus'])).toThrow(UsageError)
    expect(() => logSources(dataDir, ['bogus'])).toThrow(/no logs named bogus/)
    expect(() => logSources(dataDir, ['supervisor'])).toThrow(/no logs named supervisor/)
  })

  it('throws a UserError when there are no logs yet', () => {
    rmSync(logs, {recursive: true})
    expect(() => logSources(dataDir, [])).toThrow(UserError)
    expect(() => logSources(dataDir, [])).toThrow(/no logs in/)
  })
})

describe('readLogs', () => {
  it('prefixes server lines with the padded server name, mm lines as they are', () => {
    const lines = readLogs(logSources(dataDir, []), 100)
    expect(lines).toContain('postgres | pg 1')
    expect(lines).toContain('redis    | redis 2') // padded to the widest name
    expect(lines).toContain('05:26:04 topology  | topology.applied x=1')
    expect(lines.filter((l) => l.startsWith('mm ')).length).toBe(0)
    expect(lines).toHaveLength(3 + 2 + 6) // empty lines dropped
  })

  it('keeps each source together, in file order', () => {
    const lines = readLogs(logSources(dataDir, ['postgres']), 100)
    expect(lines).toEqual(['postgres | pg 1', 'postgres | pg 2', 'postgres | pg 3'])
  })

  it('shows only the lines whose scope is the runner asked for, unprefixed', () => {
    expect(readLogs(logSources(dataDir, ['topology']), 100)).toEqual(['05:26:04 topology  | topology.applied x=1', '05:26:06 topology  | topology.checked y=2'])
    expect(readLogs(logSources(dataDir, ['product']), 100)).toEqual(['05:26:09 product   | product.ready'])
  })

  it('shows the last n lines of each source', () => {
    const lines = readLogs(logSources(dataDir, ['postgres', 'redis', 'topology']), 1)
    expect(lines).toEqual(['postgres | pg 3', 'redis    | redis 2', '05:26:06 topology  | topology.checked y=2'])
  })

  it('shows nothing first with n = 0 (with -f: only what comes next)', () => {
    expect(readLogs(logSources(dataDir, []), 0)).toEqual([])
  })

  it('applies n after the scope filter', () => {
    expect(readLogs(logSources(dataDir, ['topology']), 1)).toEqual(['05:26:06 topology  | topology.checked y=2'])
  })

  it('skips a source whose file does not exist', () => {
    rmSync(join(logs, 'mm.log'))
    // Padded to the widest name asked for ('ingest').
    expect(readLogs(logSources(dataDir, ['ingest', 'redis']), 10)).toEqual(['redis  | redis 1', 'redis  | redis 2'])
  })
})

describe('followLogs', () => {
  const follow = (filter: string[]) => {
    const seen: string[] = []
    const controller = new AbortController()
    const done = followLogs(logSources(dataDir, filter), (line) => seen.push(line), controller.signal)
    const stop = async () => {
      controller.abort()
      await done
    }
    const until = (count: number) => waitFor(async () => (seen.length >= count ? [...seen] : undefined), {timeoutMs: 3000, intervalMs: 20})
    return {seen, stop, until}
  }

  it('prints only lines appended after it started, prefixed like readLogs', async () => {
    const {seen, stop, until} = follow([])
    try {
      appendFileSync(join(logs, 'postgres.log'), 'pg 4\n')
      appendFileSync(join(logs, 'mm.log'), '05:27:00 ingest    | ingest.flushed n=3\n')
      const lines = await until(2)
      expect(lines?.sort()).toEqual(['05:27:00 ingest    | ingest.flushed n=3', 'postgres | pg 4'])
    } finally {
      await stop()
    }
    expect(seen).not.toContain('postgres | pg 1')
  })

  it('filters appended mm.log lines by scope', async () => {
    const {seen, stop, until} = follow(['topology'])
    try {
      appendFileSync(join(logs, 'mm.log'), '05:27:01 ingest    | ingest.flushed n=3\n05:27:02 topology  | topology.applied z=3\n')
      expect(await until(1)).toEqual(['05:27:02 topology  | topology.applied z=3'])
      appendFileSync(join(logs, 'mm.log'), '05:27:03 topology  | topology.applied z=4\n')
      expect(await until(2)).toEqual(['05:27:02 topology  | topology.applied z=3', '05:27:03 topology  | topology.applied z=4'])
    } finally {
      await stop()
    }
    expect(seen.some((l) => l.includes('ingest'))).toBe(false)
  })

  it('waits for the end of a partial line before printing it', async () => {
    const {seen, stop, until} = follow(['redis'])
    try {
      appendFileSync(join(logs, 'redis.log'), 'half a ')
      appendFileSync(join(logs, 'redis.log'), 'marker\n')
      expect(await until(1)).toEqual(['redis | half a marker'])
    } finally {
      await stop()
    }
    expect(seen).toEqual(['redis | half a marker'])
  })

  it('starts over when a file is truncated', async () => {
    const {stop, until} = follow(['postgres'])
    try {
      writeFileSync(join(logs, 'postgres.log'), 'new\n')
      expect(await until(1)).toEqual(['postgres | new'])
    } finally {
      await stop()
    }
  })

  it('picks up a log file created after it started', async () => {
    rmSync(join(logs, 'mm.log'))
    const {stop, until} = follow(['topology'])
    try {
      writeFileSync(join(logs, 'mm.log'), '05:28:00 topology  | topology.applied born=1\n')
      expect(await until(1)).toEqual(['05:28:00 topology  | topology.applied born=1'])
    } finally {
      await stop()
    }
  })

  it('resolves promptly once the signal aborts', async () => {
    const controller = new AbortController()
    const done = followLogs(logSources(dataDir, []), () => {}, controller.signal)
    const startedAt = Date.now()
    controller.abort()
    await done
    expect(Date.now() - startedAt).toBeLessThan(1000)
  })
})
