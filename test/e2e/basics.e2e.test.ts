import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {json, mm} from './cli.js'

const cwd = mkdtempSync(join(tmpdir(), 'mm-e2e-basics-'))

describe('mm basics (built CLI)', () => {
  it('--version prints the version and exits 0', async () => {
    const r = await mm(['--version'], {cwd})
    expect(r.exitCode).toBe(0)
    expect(r.stdout).toMatch(/^mm\/\d+\.\d+\.\d+ /)
  })

  it('--help lists the commands', async () => {
    const r = await mm(['--help'], {cwd})
    expect(r.exitCode).toBe(0)
    for (const c of ['up', 'down', 'status', 'doctor', 'logs', 'infra']) expect(r.stdout).toContain(c)
    expect(r.stdout).not.toContain('supervise')
  })

  it('an unknown flag is a usage error: exit 2, message on stderr, nothing on stdout', async () => {
    const r = await mm(['status', '--bogus'], {cwd})
    expect(r.exitCode).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(/bogus/)
    expect(r.stderr).not.toMatch(/\n\s+at /) // no stack trace
  })

  it('an unknown command is a usage error with the closest commands; an extra word is named as such', async () => {
    const typo = await mm(['statu'], {cwd})
    expect(typo.exitCode).toBe(2)
    expect(typo.stderr).toContain('mm has no command "statu"')
    expect(typo.stderr).toContain('did you mean mm status?')
    const asJson = await mm(['bogus', '--json'], {cwd})
    expect(asJson.exitCode).toBe(2)
    expect(json<{error: {code: string; message: string}}>(asJson).error).toMatchObject({code: 'usage', message: 'mm has no command "bogus"'})
    const extra = await mm(['dlq', 'list', 'extra'], {cwd})
    expect(extra.exitCode).toBe(2)
    expect(extra.stderr).toContain('mm dlq list takes no argument "extra"')
    const connect = await mm(['connect', 'postgres', 'redis'], {cwd})
    expect(connect.exitCode).toBe(2)
    expect(connect.stderr).toContain('arguments for the client go after --')
  })

  it('mm help, help <command> and -h print help and exit 0', async () => {
    for (const args of [['help'], ['help', 'dlq', 'replay'], ['status', '-h']]) {
      const r = await mm(args, {cwd})
      expect(r.exitCode, args.join(' ')).toBe(0)
      expect(r.stdout, args.join(' ')).toContain('USAGE')
    }
  })

  it('an integer flag out of range names the flag', async () => {
    const r = await mm(['load', 'orders', '--rate', '20000'], {cwd})
    expect(r.exitCode).toBe(2)
    expect(r.stderr).toContain('--rate: Expected an integer less than or equal to 10000')
  })

  it('a bad setting names the variable and the flag, exit 2, JSON error under --json', async () => {
    const r = await mm(['status', '--json'], {cwd, env: {MM_WAIT_TIMEOUT: 'soon'}})
    expect(r.exitCode).toBe(2)
    const body = json<{error: {code: string; message: string}}>(r)
    expect(body.error.code).toBe('usage')
    expect(body.error.message).toContain('MM_WAIT_TIMEOUT')
    expect(body.error.message).toContain('--wait-timeout')
  })

  it('status with nothing running says so and exits 1; --json prints only JSON', async () => {
    const text = await mm(['status'], {cwd})
    expect(text.exitCode).toBe(1)
    expect(text.stdout).toContain('not running')
    const r = await mm(['status', '--json'], {cwd})
    expect(r.exitCode).toBe(1)
    expect(json(r)).toMatchObject({runtime: 'none', healthy: false, servers: []})
  })

  it('down with nothing running is harmless', async () => {
    const r = await mm(['down', '--json'], {cwd})
    expect(r.exitCode).toBe(0)
    expect(json(r)).toMatchObject({runtime: 'none'})
  })

  it('infra install is idempotent: a second run only reports what is present', async () => {
    const r = await mm(['infra', 'install', '--json'], {cwd, timeoutMs: 600_000})
    expect(r.exitCode).toBe(0)
    const result = json<{steps: {step: string; action: string}[]}>(r)
    expect(result.steps.map((s) => s.step)).toEqual(['postgresql', 'redis', 'rabbitmq', 'java', 'maven', 'kafka', 'mongo', 'mongo-launcher'])
    expect(result.steps.every((s) => s.action === 'present')).toBe(true)
  })
})
