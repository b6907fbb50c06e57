import {execFileSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync} from 'node:fs'
import {join} from 'node:path'

import {afterAll, describe, expect, it} from 'vitest'

import pg from 'pg'

import {isAlive} from '../../src/lib/proc.js'
import {json, mm, processesUsing, recordedPids} from './cli.js'

interface Status {
  runtime: string
  healthy: boolean
  servers: {name: string; healthy: boolean; error?: string; dataDir?: string}[]
}
interface Doctor {
  checks: {check: string; status: string; detail: string; dataDir?: string}[]
}

// A checkout inside a mode-700 folder, like `git clone … /root/mm` as root: the postgres user
// cannot enter it, and nothing may loosen it.
const home = mkdtempSync('/tmp/mm-e2e-home-')
const cwd = join(home, 'mm')
mkdirSync(cwd)
const dataDir = join(cwd, '.mm')
const statePath = join(dataDir, 'state.json')
const asRoot = process.getuid?.() === 0

const postgresUrl = (): string => (JSON.parse(readFileSync(statePath, 'utf8')) as {servers: {postgres: {url: string}}}).servers.postgres.url

/**
 * The quick start from a checkout under a mode-700 home: `up -d`, status, write, `down`, `up`,
 * read back, `down -v`. As root PostgreSQL runs as the postgres user, so its data must live
 * outside the checkout (and be found again); every other server keeps its data under `.mm/`.
 */
describe('mm up … mm down -v from a checkout inside a mode-700 folder', () => {
  let pgDir = ''

  afterAll(async () => {
    await mm(['down', '-v'], {cwd})
    rmSync(home, {recursive: true, force: true})
  })

  it('comes up with no flag about data, all five servers healthy', async () => {
    const r = await mm(['up', '--infra', 'native', '-d', '--json', '--http-port', '0'], {cwd})
    expect(r.exitCode, r.stderr).toBe(0)
    expect(json<{started: string[]}>(r).started.sort()).toEqual(['kafka', 'mongo', 'postgres', 'rabbitmq', 'redis'])
    expect(statSync(home).mode & 0o777).toBe(0o700) // the home folder was not loosened
  })

  it('status --json says where each server keeps its data: PostgreSQL outside the checkout (as root), the rest under .mm', async () => {
    const r = await mm(['status', '--json'], {cwd})
    expect(r.exitCode, r.stdout).toBe(0)
    const status = json<Status>(r)
    expect(status.healthy).toBe(true)
    for (const s of status.servers.filter((x) => x.name !== 'postgres')) expect(s.dataDir).toBe(join(dataDir, 'data', s.name))
    pgDir = status.servers.find((s) => s.name === 'postgres')!.dataDir!
    if (asRoot) {
      expect(pgDir).toMatch(/^\/var\/lib\/mm\/[0-9a-f]{8}\/postgres$/)
      const st = statSync(pgDir)
      expect(st.mode & 0o777).toBe(0o700)
      expect(st.uid).toBe(Number(execFileSync('id', ['-u', 'postgres'], {encoding: 'utf8'}))) // owned by the postgres user
      expect(JSON.parse(readFileSync(statePath, 'utf8')).dataDirs).toEqual({postgres: pgDir})
    } else {
      expect(pgDir).toBe(join(dataDir, 'data', 'postgres'))
    }
    const text = await mm(['status'], {cwd})
    expect(text.stdout).toMatch(/SERVER\s+RUNTIME\s+HEALTH\s+VERSION\s+URL\s+DATA/)
    expect(text.stdout).toContain(pgDir)
  })

  it('doctor --json has a data line per server with its directory', async () => {
    const doctor = json<Doctor>(await mm(['doctor', '--json'], {cwd}))
    const lines = doctor.checks.filter((c) => c.dataDir !== undefined)
    expect(lines.map((c) => c.check)).toEqual(['data postgres', 'data redis', 'data rabbitmq', 'data kafka', 'data mongo'])
    expect(lines.find((c) => c.check === 'data postgres')).toMatchObject({status: 'ok', dataDir: pgDir})
    if (asRoot) expect(lines.find((c) => c.check === 'data postgres')!.detail).toContain(`the postgres user cannot enter ${home}`)
    expect(lines.find((c) => c.check === 'data redis')).toMatchObject({dataDir: join(dataDir, 'data', 'redis')})
  })

  it('data written before mm down is there after the next mm up, found in the same place', async () => {
    const client = new pg.Client({connectionString: postgresUrl()})
    await client.connect()
    await client.query('CREATE TABLE survives (v text)')
    await client.query("INSERT INTO survives VALUES ('kept')")
    await client.end()

    const pids = recordedPids(statePath)
    const down = await mm(['down'], {cwd})
    expect(down.exitCode, down.stderr).toBe(0)
    expect(pids.filter((pid) => isAlive(pid))).toEqual([])
    expect(processesUsing([cwd, pgDir])).toEqual([])
    expect(existsSync(join(pgDir, 'pgdata', 'PG_VERSION'))).toBe(true)

    const up = await mm(['up', '--infra', 'native', '-d', '--http-port', '0'], {cwd})
    expect(up.exitCode, up.stderr).toBe(0)
    const status = json<Status>(await mm(['status', '--json'], {cwd}))
    expect(status.healthy).toBe(true)
    expect(status.servers.find((s) => s.name === 'postgres')!.dataDir).toBe(pgDir)
    const again = new pg.Client({connectionString: postgresUrl()})
    await again.connect()
    expect((await again.query('SELECT v FROM survives')).rows).toEqual([{v: 'kept'}])
    await again.end()
  })

  it('mm down -v stops everything and removes all the data, PostgreSQL’s outside the checkout included', async () => {
    const pids = recordedPids(statePath)
    const r = await mm(['down', '-v', '--json'], {cwd})
    expect(r.exitCode, r.stderr).toBe(0)
    expect(json<{removedData: boolean}>(r).removedData).toBe(true)
    expect(existsSync(dataDir)).toBe(false)
    expect(existsSync(pgDir)).toBe(false)
    if (asRoot) expect(existsSync(join(pgDir, '..'))).toBe(false) // the instance's folder under /var/lib/mm too
    expect(pids.filter((pid) => isAlive(pid))).toEqual([])
    expect(processesUsing([cwd, pgDir])).toEqual([])
    expect(statSync(home).mode & 0o777).toBe(0o700)
  })
})
