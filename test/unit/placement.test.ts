import {chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {defaultDataDir, instanceOf, OUTSIDE_ROOT, placeData, removeOutside} from '../../src/infra/native/placement.js'

// Checking what another OS user can enter needs root (to run `test -x` as that user).
const asRoot = process.getuid?.() === 0
const nobody = {name: 'nobody', uid: 65534, gid: 65534}

let home: string
let dataDir: string

beforeEach(() => {
  home = mkdtempSync('/tmp/mm-place-') // mode 0700, like /root
  dataDir = join(home, 'checkout', '.mm')
})

afterEach(() => {
  rmSync(home, {recursive: true, force: true})
})

describe('placeData', () => {
  it('keeps the data under .mm/data when the server runs as mm itself', () => {
    expect(placeData(dataDir, {name: 'redis'})).toEqual({server: 'redis', dir: join(dataDir, 'data', 'redis')})
  })

  it('follows what state.json recorded', () => {
    const recorded = join(OUTSIDE_ROOT, 'abcdef01', 'postgres')
    expect(placeData(dataDir, {name: 'postgres'}, recorded)).toMatchObject({dir: recorded, reason: 'recorded in state.json'})
    expect(placeData(dataDir, {name: 'postgres'}, defaultDataDir(dataDir, 'postgres'))).toEqual({server: 'postgres', dir: join(dataDir, 'data', 'postgres')})
  })

  it.runIf(asRoot)('moves the data out of a mode-700 home its OS user cannot enter, naming the folder in the way', () => {
    const placed = placeData(dataDir, {name: 'postgres', runsAs: () => nobody})
    expect(placed.dir).toBe(join(OUTSIDE_ROOT, instanceOf(dataDir), 'postgres'))
    expect(placed.reason).toBe(`the nobody user cannot enter ${home}`)
    expect(statSync(home).mode & 0o777).toBe(0o700) // the home folder is not loosened
  })

  it.runIf(asRoot)('keeps the data under .mm/data when that user can reach it', () => {
    chmodSync(home, 0o755)
    mkdirSync(join(dataDir, 'data'), {recursive: true})
    expect(placeData(dataDir, {name: 'postgres', runsAs: () => nobody})).toEqual({server: 'postgres', dir: join(dataDir, 'data', 'postgres')})
  })

  it.runIf(asRoot)('never leaves data already under .mm/data behind, but ignores empty folders of a failed start', () => {
    const pgdata = join(dataDir, 'data', 'postgres', 'pgdata')
    mkdirSync(pgdata, {recursive: true})
    expect(placeData(dataDir, {name: 'postgres', runsAs: () => nobody}).dir).toBe(join(OUTSIDE_ROOT, instanceOf(dataDir), 'postgres'))
    writeFileSync(join(pgdata, 'PG_VERSION'), '15\n')
    expect(placeData(dataDir, {name: 'postgres', runsAs: () => nobody})).toEqual({server: 'postgres', dir: join(dataDir, 'data', 'postgres')})
  })

  it('derives a stable instance id from the data dir', () => {
    expect(instanceOf(dataDir)).toMatch(/^[0-9a-f]{8}$/)
    expect(instanceOf(dataDir)).toBe(instanceOf(dataDir))
    expect(instanceOf(dataDir + '2')).not.toBe(instanceOf(dataDir))
  })
})

describe('removeOutside', () => {
  it(`never deletes anything outside ${OUTSIDE_ROOT}, whatever state.json says`, () => {
    const victim = join(home, 'precious')
    mkdirSync(victim)
    expect(removeOutside(dataDir, [victim, '/'])).toEqual([])
    expect(existsSync(victim)).toBe(true)
  })
})
