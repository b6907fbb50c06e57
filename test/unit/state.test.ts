import {existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {type PlatformState, StateStore} from '../../src/infra/state.js'

let dir: string
let dataDir: string

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mm-state-'))
  dataDir = join(dir, 'nested', '.mm')
})

afterEach(() => {
  rmSync(dir, {recursive: true, force: true})
})

const sample = (): PlatformState => ({
  version: 1,
  runtime: 'native',
  secrets: {postgresPassword: 's3cret'},
  servers: {
    postgres: {pid: 4242, ports: {main: 55432}, url: 'postgres://mm:s3cret@127.0.0.1:55432/mercadomio', version: '16.4', startedAt: '2025-01-01T00:00:00.000Z'},
    kafka: {ports: {broker: 59092, controller: 59093}, url: '127.0.0.1:59092'},
  },
  extra: {rabbitmqManagement: 'http://127.0.0.1:15672'},
  supervisor: {pid: 99, mode: 'detached', startedAt: '2025-01-01T00:00:01.000Z', http: 'http://127.0.0.1:8080', ready: true},
})

describe('StateStore', () => {
  it('keeps state.json inside the data dir', () => {
    expect(new StateStore(dataDir).path).toBe(join(dataDir, 'state.json'))
  })

  it('reads back exactly what it wrote, creating the data dir', () => {
    const store = new StateStore(dataDir)
    store.write(sample())
    expect(existsSync(store.path)).toBe(true)
    expect(new StateStore(dataDir).read()).toEqual(sample())
  })

  it('fills defaults for optional parts', () => {
    const store = new StateStore(dataDir)
    store.write({version: 1, runtime: 'compose'} as PlatformState)
    expect(store.read()).toEqual({version: 1, runtime: 'compose', servers: {}, extra: {}})
  })

  it('writes the file readable by its owner only (0600)', () => {
    const store = new StateStore(dataDir)
    store.write(sample())
    expect(statSync(store.path).mode & 0o777).toBe(0o600)
    store.write({...sample(), runtime: 'compose'})
    expect(statSync(store.path).mode & 0o777).toBe(0o600)
  })

  it('replaces the previous content on each write', () => {
    const store = new StateStore(dataDir)
    store.write(sample())
    store.write({version: 1, runtime: 'external', servers: {}, extra: {}})
    expect(store.read()).toEqual({version: 1, runtime: 'external', servers: {}, extra: {}})
  })

  it('leaves no temp files after writes and updates', () => {
    const store = new StateStore(dataDir)
    store.write(sample())
    store.write(sample())
    store.update((s) => s && {...s, supervisor: undefined})
    expect(readdirSync(dataDir)).toEqual(['state.json'])
  })

  it('update() passes the current state and writes what it returns', () => {
    const store = new StateStore(dataDir)
    store.write(sample())
    const next = store.update((s) => s && {...s, runtime: 'compose'})
    expect(next?.runtime).toBe('compose')
    expect(store.read()?.runtime).toBe('compose')
    expect(store.read()?.servers.postgres?.pid).toBe(4242)
  })

  it('update() writes nothing when the function returns undefined', () => {
    const store = new StateStore(dataDir)
    expect(store.update(() => undefined)).toBeUndefined()
    expect(existsSync(store.path)).toBe(false)
  })

  it('has no state and is not corrupt when the file does not exist', () => {
    const store = new StateStore(dataDir)
    expect(store.read()).toBeUndefined()
    expect(store.isCorrupt()).toBe(false)
  })

  it('is not corrupt after a valid write', () => {
    const store = new StateStore(dataDir)
    store.write(sample())
    expect(store.isCorrupt()).toBe(false)
  })

  it.each([
    ['not JSON', '{"version": 1, "runtime": '],
    ['empty', ''],
    ['an unknown version', JSON.stringify({...sample(), version: 2})],
    ['an unknown runtime', JSON.stringify({...sample(), runtime: 'k8s'})],
    ['an unknown server', JSON.stringify({...sample(), servers: {mysql: {ports: {}, url: 'x'}}})],
    ['a non-integer port', JSON.stringify({...sample(), servers: {redis: {ports: {main: '6379'}, url: 'x'}}})],
    ['a JSON array', '[]'],
  ])('reads a file with %s as no state and reports it corrupt', (_what, text) => {
    const store = new StateStore(dataDir)
    store.write(sample())
    writeFileSync(store.path, text)
    expect(store.read()).toBeUndefined()
    expect(store.isCorrupt()).toBe(true)
  })

  it('writes pretty JSON ending with a newline', () => {
    const store = new StateStore(dataDir)
    store.write(sample())
    const text = readFileSync(store.path, 'utf8')
    expect(text.endsWith('}\n')).toBe(true)
    expect(text).toContain('\n  "version": 1,')
  })
})
