import {spawn} from 'node:child_process'
import {constants} from 'node:os'

import type {Config} from '../config/index.js'
import {which} from '../infra/native/system.js'
import {resolveEndpoints} from '../infra/platform.js'
import type {Endpoints} from '../infra/types.js'
import {UserError} from '../lib/errors.js'
import type {Logger} from '../lib/logger.js'
import {shellCommand} from '../lib/shell.js'
import {maskUrl} from '../lib/urls.js'

export const CONNECT_SERVERS = ['postgres', 'redis', 'rabbitmq', 'kafka', 'mongo'] as const
export type ConnectServer = (typeof CONNECT_SERVERS)[number]

export interface ConnectResult {
  server: ConnectServer
  /** The client program, and whether it is on PATH. */
  client: string
  installed: boolean
  /** The command line (passwords masked unless --reveal). */
  command: string
  executed: boolean
  /** The client's exit code, when it ran. */
  exitCode?: number
  /** How to install the client, when it is missing. */
  install?: string
  /** RabbitMQ: the management UI and who to log in as. */
  management?: {url: string; username: string; password: string}
}

interface Plan {
  /** Programs that can serve, the first found wins (kcat was called kafkacat). */
  programs: string[]
  args: string[]
  env: Record<string, string>
  install: string
}

const MASK = '***'

/** The client command for a server, already pointed at the platform; passwords masked unless `reveal`. */
export const clientPlan = (server: ConnectServer, e: Endpoints, extra: string[], reveal: boolean): Plan => {
  const secret = (v: string) => (reveal ? v : MASK)
  switch (server) {
    case 'postgres': {
      // The password travels in PGPASSWORD, not in the URL: it stays out of `ps`.
      const url = new URL(e.postgres)
      const password = decodeURIComponent(url.password)
      url.password = ''
      return {
        programs: ['psql'],
        args: [url.toString(), ...extra],
        env: password ? {PGPASSWORD: secret(password)} : {},
        install: 'sudo apt-get install postgresql-client',
      }
    }
    case 'redis': {
      const url = new URL(e.redis)
      const db = url.pathname.replace(/^\//, '')
      const password = decodeURIComponent(url.password)
      const args = [
        '-h',
        url.hostname,
        '-p',
        url.port || '6379',
        ...(db ? ['-n', db] : []),
        ...(url.username ? ['--user', decodeURIComponent(url.username)] : []),
        ...(url.protocol === 'rediss:' ? ['--tls'] : []),
      ]
      return {
        programs: ['redis-cli'],
        args: [...args, ...extra],
        env: password ? {REDISCLI_AUTH: secret(password)} : {},
        install: 'sudo apt-get install redis-tools',
      }
    }
    case 'mongo':
      return {
        programs: ['mongosh'],
        args: [reveal ? e.mongo : maskUrl(e.mongo), ...extra],
        env: {},
        install: 'mongosh has no Debian package: install it from MongoDB (https://www.mongodb.com/try/download/shell) or with npm install -g mongosh',
      }
    case 'kafka':
      return {
        programs: ['kcat', 'kafkacat'],
        args: ['-b', e.kafka.join(','), ...(extra.length ? extra : ['-L'])],
        env: {},
        install: 'sudo apt-get install kcat (kafkacat on older releases)',
      }
    case 'rabbitmq': {
      const url = new URL(e.rabbitmqManagement)
      const args = [
        '--host',
        url.hostname,
        '--port',
        url.port || (url.protocol === 'https:' ? '443' : '15672'),
        '--username',
        decodeURIComponent(url.username || 'guest'),
        '--password',
        secret(decodeURIComponent(url.password || 'guest')),
        ...(url.protocol === 'https:' ? ['--ssl'] : []),
      ]
      return {
        programs: ['rabbitmqadmin'],
        args: [...args, ...(extra.length ? extra : ['list', 'queues'])],
        env: {},
        install: 'rabbitmqadmin comes with the rabbitmq-server package (sudo apt-get install rabbitmq-server), or download it from the management UI at /cli/',
      }
    }
  }
}

/**
 * `mm connect <server>`: the server's usual client, pointed at the running platform. It runs with
 * the terminal (stdio inherited) when `run` is true and the client is installed; otherwise the
 * command is only returned, for the user to copy.
 */
export const connect = async (opts: {
  config: Config
  logger: Logger
  server: ConnectServer
  extra: string[]
  reveal: boolean
  run: boolean
}): Promise<ConnectResult> => {
  const endpoints = await resolveEndpoints(opts.config, opts.logger)
  if (!endpoints) throw new UserError('the platform is not running: nothing to connect to', 'start it with mm up -d (or set the MM_* URLs of external servers)')
  const real = clientPlan(opts.server, endpoints, opts.extra, true)
  const shown = clientPlan(opts.server, endpoints, opts.extra, opts.reveal)
  const found = real.programs.find((p) => which(p) !== undefined)
  const client = found ?? real.programs[0]!
  const result: ConnectResult = {
    server: opts.server,
    client,
    installed: found !== undefined,
    command: shellCommand([client, ...shown.args], shown.env),
    executed: false,
    install: found ? undefined : real.install,
  }
  if (opts.server === 'rabbitmq') {
    const url = new URL(endpoints.rabbitmqManagement)
    const password = decodeURIComponent(url.password || 'guest')
    const username = decodeURIComponent(url.username || 'guest')
    url.username = ''
    url.password = ''
    result.management = {url: url.toString(), username, password: opts.reveal ? password : MASK}
  }
  if (!opts.run || !found) return result
  opts.logger.debug('connect.exec', {command: result.command})
  result.exitCode = await runInherited(found, real.args, real.env)
  result.executed = true
  return result
}

/** Runs a client with the terminal; Ctrl-C belongs to the client (mm ignores it meanwhile). */
const runInherited = (program: string, args: string[], env: Record<string, string>): Promise<number> =>
  new Promise((resolve, reject) => {
    const ignore = () => {}
    process.on('SIGINT', ignore)
    const child = spawn(program, args, {stdio: 'inherit', env: {...process.env, ...env}})
    const done = () => process.off('SIGINT', ignore)
    child.on('error', (error) => {
      done()
      reject(new UserError(`${program} could not start: ${error.message}`))
    })
    child.on('exit', (code, signal) => {
      done()
      resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 1) : 1))
    })
  })
