import {execFileSync} from 'node:child_process'
import {mkdirSync} from 'node:fs'

import {UserError} from '../../../lib/errors.js'
import type {NativeServer} from '../server.js'
import {which} from '../system.js'

/** Redis from the OS packages; append-only persistence for `mm up`, none for tests. */
export const redis: NativeServer = {
  name: 'redis',
  ports: [{name: 'main', standard: 6379}],
  processMatch: 'redis-server',
  requirements: () => [{what: 'Redis server (redis-server)', ok: which('redis-server') !== undefined, fix: 'mm infra install (apt: redis-server)'}],
  version: () => {
    const bin = which('redis-server')
    if (!bin) return undefined
    return /v=(\S+)/.exec(execFileSync(bin, ['--version'], {encoding: 'utf8'}))?.[1]
  },
  prepare: async (ctx) => {
    mkdirSync(ctx.dir, {recursive: true})
  },
  spawn: (ctx) => {
    const file = which('redis-server')
    if (!file) throw new UserError('Redis is not installed', 'run: mm infra install')
    const persistence = ctx.persistent ? ['--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '300 1'] : ['--appendonly', 'no', '--save', '']
    return {
      file,
      args: [
        '--port',
        String(ctx.ports.main),
        '--bind',
        '127.0.0.1',
        '--protected-mode',
        'yes',
        '--dir',
        ctx.dir,
        '--daemonize',
        'no',
        '--logfile',
        '',
        ...persistence,
      ],
    }
  },
  url: (ctx) => `redis://127.0.0.1:${ctx.ports.main}`,
}
