import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'

import type {Config} from '../config/index.js'
import {nativeDataPlacements, nativeRequirements, NATIVE_SERVERS} from '../infra/native/runtime.js'
import {type PlatformState, StateStore} from '../infra/state.js'
import {checkDataDir} from '../lib/data-dir.js'
import {packageRoot} from '../lib/package-root.js'
import {isAlive, listenersOn} from '../lib/proc.js'

export type CheckStatus = 'ok' | 'warn' | 'fail'
export interface Check {
  check: string
  status: CheckStatus
  detail: string
  fix?: string
  /** `data <server>` checks: where that server's data lives. */
  dataDir?: string
}
export interface DoctorResult {
  ok: boolean
  checks: Check[]
}

const satisfies = (version: string, range: string): boolean => {
  const min = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(range)
  const have = /(\d+)\.(\d+)\.(\d+)/.exec(version)
  if (!min || !have) return true
  const a = [Number(have[1]), Number(have[2]), Number(have[3])]
  const b = [Number(min[1]), Number(min[2]), Number(min[3] ?? 0)]
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! > b[i]!
  return true
}

/** Preflight: everything `mm up` needs, each problem with its fix. */
export const doctor = async (config: Config): Promise<DoctorResult> => {
  const checks: Check[] = []
  const engines = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')).engines.node as string
  const nodeOk = satisfies(process.versions.node, engines)
  checks.push({
    check: 'node',
    status: nodeOk ? 'ok' : 'fail',
    detail: `Node ${process.versions.node} (mm needs ${engines})`,
    fix: nodeOk ? undefined : `install Node ${engines}`,
  })

  const {dockerEngineAvailable} = await import('../infra/compose/runtime.js')
  const docker = await dockerEngineAvailable(2000)
  checks.push({
    check: 'docker',
    status: 'ok',
    detail: docker ? 'Docker engine answers: --infra auto uses compose' : 'no Docker engine: --infra auto uses native mode',
  })

  const reqs = nativeRequirements(config.cacheDir)
  const seen = new Set<string>()
  for (const {server, requirement} of reqs) {
    if (seen.has(requirement.what)) continue
    seen.add(requirement.what)
    const status: CheckStatus = requirement.ok ? 'ok' : docker ? 'warn' : 'fail'
    checks.push({
      check: `native ${server}`,
      status,
      detail: `${requirement.what}: ${requirement.ok ? 'found' : 'missing'}`,
      fix: requirement.ok ? undefined : requirement.fix,
    })
  }

  const store = new StateStore(config.dataDir)
  const state = store.read()
  const ours = new Set<number>(Object.values(state?.servers ?? {}).flatMap((s) => (s.pid ? [s.pid] : [])))
  if (state?.supervisor?.pid) ours.add(state.supervisor.pid)
  // epmd runs as a daemon (init is its parent): while our RabbitMQ runs, the epmd on its port serves it.
  const rabbitmqPid = state?.servers.rabbitmq?.pid
  const ourEpmd = rabbitmqPid !== undefined && isAlive(rabbitmqPid)
  const wanted = [...NATIVE_SERVERS.flatMap((s) => s.ports.map((p) => ({server: s.name, port: p.standard}))), {server: 'gateway', port: config.httpPort}]
  for (const {server, port} of wanted) {
    if (port === 0) continue
    // One process listening on both IPv4 and IPv6 is one holder.
    const holders = [...new Map(listenersOn(port).map((h) => [h.pid ?? h.address, h])).values()]
    if (holders.length === 0) continue
    const mine = holders.some((h) => h.pid !== undefined && (ours.has(h.pid) || isChildOf(h.pid, ours) || (ourEpmd && /(^|\/)epmd\b/.test(h.command ?? ''))))
    if (mine) continue
    const who = holders.map((h) => (h.pid ? `pid ${h.pid} (${(h.command ?? '?').slice(0, 80)})` : `an unknown process on ${h.address}`)).join(', ')
    checks.push({
      check: `port ${port}`,
      status: 'warn',
      detail: `${server} port ${port} is busy: held by ${who}`,
      fix:
        server === 'gateway'
          ? `stop it, or set --http-port / MM_HTTP_PORT`
          : `stop it, or let native mode pick another port (it does so automatically and records it in ${store.path})`,
    })
  }

  if (store.isCorrupt()) {
    checks.push({check: 'state', status: 'fail', detail: `${store.path} cannot be read`, fix: `remove it (rm ${store.path}) and run mm up`})
  } else if (state) {
    const dead = Object.entries(state.servers).filter(([, s]) => s.pid && !isAlive(s.pid))
    const supDead = state.supervisor && !isAlive(state.supervisor.pid)
    if (dead.length > 0 || supDead) {
      checks.push({
        check: 'state',
        status: 'warn',
        detail: `stale state: ${[...dead.map(([n]) => n), ...(supDead ? ['supervisor'] : [])].join(', ')} recorded as running but gone`,
        fix: 'mm up restarts them; mm down clears the record',
      })
    } else checks.push({check: 'state', status: 'ok', detail: `${store.path} consistent`})
  }
  const lock = join(config.dataDir, 'up.lock')
  if (existsSync(lock) && !isAlive(Number(readFileSync(lock, 'utf8')))) {
    checks.push({check: 'lock', status: 'warn', detail: `stale lock ${lock} from a crashed mm up`, fix: `mm up takes it over; or rm ${lock}`})
  }

  checks.push(...dataChecks(config, state, docker))

  // A check creates nothing: a data dir that does not exist yet only needs a writable parent.
  const dataDir = checkDataDir(config.dataDir)
  checks.push(
    dataDir.ok
      ? {check: 'data dir', status: 'ok', detail: dataDir.detail}
      : {check: 'data dir', status: 'fail', detail: dataDir.detail, fix: 'choose another with --data-dir or MM_DATA_DIR'},
  )
  return {ok: checks.every((c) => c.status !== 'fail'), checks}
}

/** Where each server's data lives (native mode: one line per server). */
const dataChecks = (config: Config, state: PlatformState | undefined, docker: boolean): Check[] => {
  const runtime = state && Object.keys(state.servers).length > 0 ? state.runtime : config.infra === 'auto' ? (docker ? 'compose' : 'native') : config.infra
  if (runtime === 'external') return [{check: 'data', status: 'ok', detail: 'on the external servers (--infra external): mm keeps none'}]
  if (runtime === 'compose') return [{check: 'data', status: 'ok', detail: 'docker compose named volumes (mm down -v deletes them)'}]
  return nativeDataPlacements(config.dataDir, state).map((p) => ({
    check: `data ${p.server}`,
    status: 'ok' as const,
    detail: p.reason ? `${p.dir} (outside ${config.dataDir}: ${p.reason})` : p.dir,
    dataDir: p.dir,
  }))
}

const isChildOf = (pid: number, parents: Set<number>): boolean => {
  let current = pid
  for (let i = 0; i < 10; i++) {
    try {
      const stat = readFileSync(`/proc/${current}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (parents.has(ppid)) return true
      if (ppid <= 1) return false
      current = ppid
    } catch {
      return false
    }
  }
  return false
}
