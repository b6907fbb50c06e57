import {chmodSync, existsSync, mkdtempSync, readFileSync} from 'node:fs'
import {createServer, type Server} from 'node:net'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {Redis} from 'ioredis'
import {MongoClient} from 'mongodb'
import pg from 'pg'

import {isAlive} from '../../src/lib/proc.js'
import {json, mm, processesUsing, recordedPids} from './cli.js'

interface Status {
  runtime: string
  healthy: boolean
  servers: {name: string; url: string; healthy: boolean; version?: string; pid?: number; error?: string}[]
  supervisor: {running: boolean; pid?: number}
}

// Under /tmp so the postgres user can reach the data directory.
const cwd = mkdtempSync('/tmp/mm-e2e-platform-')
chmodSync(cwd, 0o755)
const statePath = join(cwd, '.mm', 'state.json')

interface Endpoints {
  postgres: string
  redis: string
  mongo: string
}
const endpointsOf = (): Endpoints => {
  const s = JSON.parse(readFileSync(statePath, 'utf8')) as {servers: Record<string, {url: string}>}
  return {postgres: s.servers.postgres!.url, redis: s.servers.redis!.url, mongo: s.servers.mongo!.url}
}

/**
 * The whole native lifecycle through the built CLI, in one file so it alone owns the standard
 * ports: cold up with 5432 taken, status, second up, kill -9 and repair, down, down -v.
 */
describe('mm up --infra native -d … mm down -v', () => {
  let blocker: Server | undefined
  let pids: number[] = []

  beforeAll(async () => {
    // Something else holds 5432: native mode must pick another port, doctor must name the holder.
    blocker = await new Promise<Server | undefined>((resolve) => {
      const server = createServer()
      server.once('error', () => resolve(undefined)) // already taken by someone else: just as good
      server.listen({port: 5432, host: '127.0.0.1'}, () => resolve(server))
    })
  })

  afterAll(async () => {
    await mm(['down', '-v'], {cwd})
    blocker?.close()
  })

  it('comes up from cold with all five servers healthy, postgres moved off the busy 5432', async () => {
    const r = await mm(['up', '--infra', 'native', '-d', '--json', '--http-port', '0'], {cwd})
    expect(r.exitCode, r.stderr).toBe(0)
    const up = json<{alreadyUp: boolean; started: string[]; endpoints: {name: string; url: string}[]}>(r)
    expect(up.alreadyUp).toBe(false)
    expect(up.started.sort()).toEqual(['kafka', 'mongo', 'postgres', 'rabbitmq', 'redis'])
    expect(JSON.stringify(up)).not.toMatch(/mm:[^*@]+@/) // the postgres password never printed
    pids = recordedPids(statePath)
  })

  it('status --json lists the five servers with their URLs, healthy', async () => {
    const r = await mm(['status', '--json'], {cwd})
    expect(r.exitCode, r.stdout).toBe(0)
    const status = json<Status>(r)
    expect(status.runtime).toBe('native')
    expect(status.healthy).toBe(true)
    expect(status.servers.map((s) => s.name)).toEqual(['postgres', 'redis', 'rabbitmq', 'kafka', 'mongo'])
    for (const s of status.servers) {
      expect(s.healthy, `${s.name}: ${s.error}`).toBe(true)
      expect(s.url).toMatch(/127\.0\.0\.1:\d+/)
      expect(s.version).toBeTruthy()
    }
    const pg = status.servers.find((s) => s.name === 'postgres')!
    expect(new URL(pg.url).port).not.toBe('5432')
    expect(pg.url).toContain('***')
    expect(status.servers.find((s) => s.name === 'mongo')).toMatchObject({implementation: 'mongo-java-server'})
  })

  it('doctor names the process holding 5432', async () => {
    const r = await mm(['doctor', '--json'], {cwd})
    const doctor = json<{checks: {check: string; status: string; detail: string; fix?: string}[]}>(r)
    const port = doctor.checks.find((c) => c.check === 'port 5432')
    expect(port, JSON.stringify(doctor.checks)).toBeDefined()
    if (blocker) expect(port!.detail).toContain(`pid ${process.pid}`)
    expect(port!.fix).toBeTruthy()
  })

  it('a second mm up returns at once with exit 0 and reports status', async () => {
    const r = await mm(['up', '--infra', 'native', '-d', '--json'], {cwd})
    expect(r.exitCode, r.stderr).toBe(0)
    expect(json(r)).toMatchObject({alreadyUp: true, started: []})
  })

  it('after kill -9 of a server, status is unhealthy with a non-zero exit, and mm up restarts it', async () => {
    const state = JSON.parse(readFileSync(statePath, 'utf8')) as {servers: {redis: {pid: number}}}
    process.kill(state.servers.redis.pid, 'SIGKILL')
    const r = await mm(['status', '--json'], {cwd})
    expect(r.exitCode).toBe(1)
    const redis = json<Status>(r).servers.find((s) => s.name === 'redis')!
    expect(redis.healthy).toBe(false)
    expect(redis.error).toBeTruthy()

    const again = await mm(['up', '--json'], {cwd})
    expect(again.exitCode, again.stderr).toBe(0)
    expect(json(again)).toMatchObject({alreadyUp: false, started: ['redis']})
    const after = await mm(['status', '--json'], {cwd})
    expect(after.exitCode).toBe(0)
    pids = recordedPids(statePath)
  })

  it('logs shows prefixed server lines', async () => {
    const r = await mm(['logs', 'postgres', '-n', '5'], {cwd})
    expect(r.exitCode).toBe(0)
    expect(
      r.stdout
        .split('\n')
        .filter(Boolean)
        .every((l) => l.startsWith('postgres')),
    ).toBe(true)
  })

  it('mm down leaves no server process; the data survives into the next mm up', async () => {
    const before = endpointsOf()
    const client = new pg.Client({connectionString: before.postgres})
    await client.connect()
    await client.query('CREATE TABLE survives (v text)')
    await client.query("INSERT INTO survives VALUES ('kept')")
    await client.end()
    const redis = new Redis(before.redis)
    await redis.set('survives', 'kept')
    redis.disconnect()
    const mongo = new MongoClient(before.mongo, {directConnection: true})
    await mongo.connect()
    await mongo.db('mercadomio').collection('survives').insertOne({v: 'kept'})
    await mongo.close()

    const r = await mm(['down'], {cwd})
    expect(r.exitCode, r.stderr).toBe(0)
    expect(pids.length).toBeGreaterThanOrEqual(6)
    expect(pids.filter((pid) => isAlive(pid))).toEqual([])
    expect(processesUsing([cwd], {environ: true})).toEqual([])
    const status = await mm(['status', '--json'], {cwd})
    expect(status.exitCode).toBe(1)

    const up = await mm(['up', '--infra', 'native', '-d', '--http-port', '0'], {cwd})
    expect(up.exitCode, up.stderr).toBe(0)
    const after = endpointsOf()
    const client2 = new pg.Client({connectionString: after.postgres})
    await client2.connect()
    expect((await client2.query('SELECT v FROM survives')).rows).toEqual([{v: 'kept'}])
    await client2.end()
    const redis2 = new Redis(after.redis)
    expect(await redis2.get('survives')).toBe('kept')
    redis2.disconnect()
    const mongo2 = new MongoClient(after.mongo, {directConnection: true})
    await mongo2.connect()
    expect(
      await mongo2
        .db('mercadomio')
        .collection('survives')
        .findOne({}, {projection: {_id: 0}}),
    ).toEqual({v: 'kept'})
    await mongo2.close()
  })

  it('mm down -v stops everything and removes the data', async () => {
    pids = recordedPids(statePath)
    const v = await mm(['down', '-v'], {cwd})
    expect(v.exitCode, v.stderr).toBe(0)
    expect(existsSync(join(cwd, '.mm'))).toBe(false)
    expect(pids.filter((pid) => isAlive(pid))).toEqual([])
    expect(processesUsing([cwd], {environ: true})).toEqual([])
  })
})
