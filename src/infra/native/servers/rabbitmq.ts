import {execFile} from 'node:child_process'
import {existsSync, mkdirSync, readdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {promisify} from 'node:util'

import {UserError} from '../../../lib/errors.js'
import type {NativeContext, NativeServer} from '../server.js'
import {which} from '../system.js'

const SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server'

/**
 * RabbitMQ from the OS packages, run directly (not through the user-switching wrapper), isolated
 * by HOME (Erlang cookie), node name, its own epmd port, and loopback-only listeners.
 */
export const rabbitmq: NativeServer = {
  name: 'rabbitmq',
  ports: [
    {name: 'main', standard: 5672},
    {name: 'management', standard: 15672},
    {name: 'dist', standard: 25672},
    {name: 'epmd', standard: 4369},
  ],
  processMatch: 'rabbit',
  requirements: () => [{what: 'RabbitMQ server', ok: existsSync(SERVER), fix: 'mm infra install (apt: rabbitmq-server)'}],
  version: () => {
    try {
      const dir = readdirSync('/usr/lib/rabbitmq/lib').find((d) => d.startsWith('rabbitmq_server-'))
      return dir?.replace('rabbitmq_server-', '')
    } catch {
      return undefined
    }
  },
  prepare: async (ctx) => {
    for (const sub of ['home', 'mnesia', 'log']) mkdirSync(join(ctx.dir, sub), {recursive: true})
    writeFileSync(
      join(ctx.dir, 'rabbitmq.conf'),
      [
        `listeners.tcp.default = 127.0.0.1:${ctx.ports.main}`,
        `management.tcp.ip = 127.0.0.1`,
        `management.tcp.port = ${ctx.ports.management}`,
        'collect_statistics_interval = 1000',
        'loopback_users.guest = true',
        'log.console = true',
        'log.console.level = warning',
        'log.file = false',
        // A laptop's disk is often "nearly full" by RabbitMQ's default; do not block publishers for it.
        'disk_free_limit.absolute = 50MB',
        '',
      ].join('\n'),
    )
    writeFileSync(join(ctx.dir, 'enabled_plugins'), '[rabbitmq_management].\n')
  },
  spawn: (ctx) => {
    if (!existsSync(SERVER)) throw new UserError('RabbitMQ is not installed', 'run: mm infra install')
    return {file: SERVER, args: [], env: rabbitEnv(ctx)}
  },
  url: (ctx) => `amqp://guest:guest@127.0.0.1:${ctx.ports.main}`,
  cleanup: async (ctx) => {
    // epmd outlives the node it served; stop the one on our private port.
    const epmd = which('epmd')
    if (epmd) await promisify(execFile)(epmd, ['-kill'], {env: {...rabbitEnv(ctx)}}).catch(() => {})
  },
}

export const rabbitManagementUrl = (ctx: Pick<NativeContext, 'ports'>): string => `http://guest:guest@127.0.0.1:${ctx.ports.management}`

const rabbitEnv = (ctx: NativeContext): Record<string, string> => ({
  HOME: join(ctx.dir, 'home'),
  RABBITMQ_NODENAME: `mm-${ctx.instance}@localhost`,
  RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
  RABBITMQ_NODE_PORT: String(ctx.ports.main),
  RABBITMQ_DIST_PORT: String(ctx.ports.dist),
  ERL_EPMD_PORT: String(ctx.ports.epmd),
  ERL_EPMD_ADDRESS: '127.0.0.1',
  RABBITMQ_MNESIA_BASE: join(ctx.dir, 'mnesia'),
  RABBITMQ_LOG_BASE: join(ctx.dir, 'log'),
  RABBITMQ_CONFIG_FILE: join(ctx.dir, 'rabbitmq.conf'),
  RABBITMQ_ENABLED_PLUGINS_FILE: join(ctx.dir, 'enabled_plugins'),
  RABBITMQ_PID_FILE: join(ctx.dir, 'rabbitmq.pid'),
  RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
  LANG: 'C.UTF-8',
  PATH: '/usr/lib/rabbitmq/bin:/usr/bin:/bin:/usr/sbin:/sbin',
})
