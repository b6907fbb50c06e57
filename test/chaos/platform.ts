import {existsSync, mkdtempSync, readdirSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {execa, type ResultPromise} from 'execa'
import {MongoClient} from 'mongodb'
import pg from 'pg'

import {BIN, json, mm, type Run} from '../e2e/cli.js'

/**
 * A whole platform for the chaos tier, started the way a user starts it (`mm up -d` in a folder
 * of its own, the standard ports), with the test's own connections to its stores: the oracles
 * read the write and read models directly, never through the code under test.
 */
export interface ChaosPlatform {
  dir: string
  gateway: string
  /** The gateway's port: a repairing \`mm up -d\` must serve it on the same one (\`up(args)\`). */
  up(): Promise<Run>
  pool: pg.Pool
  mongo: MongoClient
  redisUrl: string
  mm(args: string[], timeoutMs?: number): Promise<Run>
  /** A long-running mm command (a load) in the background. */
  spawn(args: string[]): ResultPromise
  /** The pid of a server (postgres, redis, rabbitmq, kafka, mongo) or of the supervisor, from state.json. */
  pid(of: string): number
  stop(): Promise<void>
}

export const startChaosPlatform = async (): Promise<ChaosPlatform> => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-chaos-'))
  const run = (args: string[], timeoutMs?: number) => mm(args, {cwd: dir, timeoutMs})
  const up = await run(['up', '-d', '--http-port', '0'])
  if (up.exitCode !== 0) throw new Error(`mm up -d failed (exit ${up.exitCode}):\n${up.stdout}\n${up.stderr}`)
  try {
    return await connect(dir, run)
  } catch (error) {
    await run(['down', '-v'])
    throw error
  }
}

const connect = async (dir: string, run: (args: string[], timeoutMs?: number) => Promise<Run>): Promise<ChaosPlatform> => {
  const env = json<{variables: Record<string, string>}>(await run(['env', '--json', '--reveal'])).variables
  const pool = new pg.Pool({connectionString: env.MM_POSTGRES_URL, max: 4})
  pool.on('error', () => {}) // the oracle's connections die with a killed server; the pool opens new ones
  const mongo = new MongoClient(env.MM_MONGODB_URL!, {directConnection: true})
  await mongo.connect()
  const state = () =>
    JSON.parse(readFileSync(join(dir, '.mm', 'state.json'), 'utf8')) as {servers: Record<string, {pid?: number}>; supervisor?: {pid: number; http?: string}}
  return {
    dir,
    gateway: env.MM_API_URL!,
    up: () => run(['up', '-d', '--http-port', new URL(env.MM_API_URL!).port]),
    pool,
    mongo,
    redisUrl: env.MM_REDIS_URL!,
    mm: run,
    spawn: (args) => execa(process.execPath, [BIN, ...args], {cwd: dir, env: {CI: 'true', NO_COLOR: '1'}, reject: false, stdin: 'ignore'}),
    pid(of) {
      const s = state()
      const pid = of === 'supervisor' ? s.supervisor?.pid : s.servers[of]?.pid
      if (!pid) throw new Error(`no pid recorded for ${of}`)
      return pid
    },
    async stop() {
      await pool.end().catch(() => {})
      await mongo.close().catch(() => {})
      await run(['down', '-v'])
    },
  }
}

/** Messages still in flight according to `mm wait --for drained`: outbox rows, queued or unacked messages, consumer lag. */
export const inFlight = async (p: ChaosPlatform): Promise<number> => {
  const r = await p.mm(['wait', '--for', 'drained', '--timeout', '1ms', '--json'])
  const out = JSON.parse(r.stdout) as {checks: {name: string; detail: string}[]}
  let total = 0
  for (const c of out.checks) for (const n of c.detail.match(/\d+/g) ?? []) total += Number(n)
  return total
}

/** How many log lines of the platform in `dir` carry the event `name` (the supervisor's and the servers' logs). */
export const countLogEvents = (dir: string, name: string): number => {
  const logs = join(dir, '.mm', 'logs')
  if (!existsSync(logs)) return 0
  let n = 0
  for (const file of readdirSync(logs)) {
    if (!file.endsWith('.log')) continue
    for (const line of readFileSync(join(logs, file), 'utf8').split('\n')) if (line.includes(`"${name}"`)) n++
  }
  return n
}
