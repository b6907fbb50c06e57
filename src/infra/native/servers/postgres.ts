import {execFileSync} from 'node:child_process'
import {chmodSync, chownSync, existsSync, mkdirSync, readdirSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'

import {ExternalError, UserError} from '../../../lib/errors.js'
import {blockingDir} from '../placement.js'
import type {NativeServer, OsUser} from '../server.js'
import {findBinDir, postgresUser} from '../system.js'

const PG_VERSIONS = ['17', '16', '15']

/** PostgreSQL from the OS packages, run as the `postgres` user when mm runs as root. */
export const postgres: NativeServer = {
  name: 'postgres',
  ports: [{name: 'main', standard: 5432}],
  processMatch: 'postgres',
  runsAs: postgresUser,
  requirements: () => {
    const bin = findBinDir(
      PG_VERSIONS.map((v) => `/usr/lib/postgresql/${v}/bin`),
      'postgres',
    )
    const asRoot = process.getuid?.() === 0
    return [
      {what: 'PostgreSQL server (postgres, initdb)', ok: bin !== undefined, fix: 'mm infra install (apt: postgresql)'},
      // PostgreSQL refuses to run as root; the package creates the postgres user mm runs it as.
      ...(asRoot
        ? [
            {
              what: 'the postgres OS user (to run PostgreSQL when mm runs as root)',
              ok: postgresUser() !== undefined,
              fix: 'mm infra install (apt: postgresql creates it)',
            },
          ]
        : []),
    ]
  },
  version: () => {
    const bin = pgBin()
    if (!bin) return undefined
    try {
      return execFileSync(join(bin, 'postgres'), ['--version'], {encoding: 'utf8'})
        .trim()
        .replace(/^postgres \(PostgreSQL\) /, '')
    } catch {
      return undefined
    }
  },
  prepare: async (ctx) => {
    const bin = requireBin()
    const data = join(ctx.dir, 'pgdata')
    const user = postgresUser()
    if (existsSync(join(data, 'PG_VERSION'))) return
    mkdirSync(data, {recursive: true, mode: 0o700})
    chmodSync(ctx.dir, 0o700)
    if (user) {
      assertTraversable(ctx.dir, user)
      chownSync(ctx.dir, user.uid, user.gid)
      chownSync(data, user.uid, user.gid)
    }
    if (readdirSync(data).length > 0) {
      throw new UserError(`${data} is not empty but holds no database`, 'remove it, or run mm down -v')
    }
    const pwfile = join(ctx.dir, '.pwfile')
    writeFileSync(pwfile, ctx.postgresPassword + '\n', {mode: 0o600})
    if (user) chownSync(pwfile, user.uid, user.gid)
    const args = ['-D', data, '-U', 'mm', `--pwfile=${pwfile}`, '--auth-host=scram-sha-256', '--auth-local=peer', '-E', 'UTF8', '--locale=C', '--no-sync']
    try {
      execFileSync(join(bin, 'initdb'), args, {stdio: ['ignore', 'pipe', 'pipe'], uid: user?.uid, gid: user?.gid, cwd: ctx.dir})
    } catch (error) {
      throw new ExternalError('initdb', String((error as {stderr?: Buffer}).stderr ?? error))
    } finally {
      execFileSync('rm', ['-f', pwfile])
    }
  },
  spawn: (ctx) => {
    const user = postgresUser()
    const settings = [
      'listen_addresses=127.0.0.1',
      `port=${ctx.ports.main}`,
      'unix_socket_directories=',
      'max_connections=200',
      'shared_buffers=128MB',
      ...(ctx.persistent ? [] : ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off']),
    ]
    return {
      file: join(requireBin(), 'postgres'),
      args: ['-D', join(ctx.dir, 'pgdata'), ...settings.flatMap((s) => ['-c', s])],
      user,
    }
  },
  url: (ctx) => `postgres://mm:${encodeURIComponent(ctx.postgresPassword)}@127.0.0.1:${ctx.ports.main}/mercadomio`,
  bootstrap: async (ctx) => {
    const {default: pg} = await import('pg')
    const client = new pg.Client({
      host: '127.0.0.1',
      port: ctx.ports.main,
      user: 'mm',
      password: ctx.postgresPassword,
      database: 'postgres',
      connectionTimeoutMillis: 2000,
    })
    client.on('error', () => {})
    await client.connect()
    try {
      const {rowCount} = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', ['mercadomio'])
      if (!rowCount) await client.query('CREATE DATABASE mercadomio')
    } finally {
      await client.end()
    }
  },
}

const pgBin = () =>
  findBinDir(
    PG_VERSIONS.map((v) => `/usr/lib/postgresql/${v}/bin`),
    'postgres',
  )
const requireBin = (): string => {
  const bin = pgBin()
  if (!bin) throw new UserError('PostgreSQL is not installed', 'run: mm infra install')
  return bin
}

/**
 * The postgres user must be able to reach its data directory through every parent. mm places the
 * data where it can (placement.ts); this names the culprit if something still stands in the way.
 */
const assertTraversable = (dir: string, user: OsUser): void => {
  const blocker = blockingDir(dirname(dir), user)
  if (blocker) {
    throw new UserError(`PostgreSQL runs as the postgres user, which cannot enter ${blocker}`, `let it in (chmod o+x ${blocker}), or choose another --data-dir`)
  }
}
