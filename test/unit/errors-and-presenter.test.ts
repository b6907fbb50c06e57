import {Flags, type Interfaces, Parser} from '@oclif/core'
import {afterEach, describe, expect, it, type MockInstance, vi} from 'vitest'

import {presentError} from '../../src/base-command.js'
import ProjectionsRebuild from '../../src/commands/projections/rebuild.js'
import ProjectionsVerify from '../../src/commands/projections/verify.js'
import Up from '../../src/commands/up.js'
import Wait from '../../src/commands/wait.js'
import {loadConfig} from '../../src/config/index.js'
import {durationFlag, durationSetting} from '../../src/flags.js'
import {
  ExitCode,
  ExternalError,
  InterruptedError,
  MmError,
  NOT_UP_HINT,
  PreflightError,
  ReadinessTimeoutError,
  unreachable,
  UsageError,
  UserError,
} from '../../src/lib/errors.js'

// eslint-disable-next-line no-control-regex
const plain = (s: string) => s.replace(/\u001B\[[0-9;]*m/g, '')

afterEach(() => {
  vi.restoreAllMocks()
  vi.unstubAllEnvs()
})

/** Runs the presenter with stdout/stderr captured, restoring the real streams before assertions run. */
const present = (error: Error, json: boolean, debug = false) => {
  const stdout: MockInstance<typeof process.stdout.write> = vi.spyOn(process.stdout, 'write').mockImplementation(() => true)
  const stderr: MockInstance<typeof process.stderr.write> = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
  const text = (spy: MockInstance) => spy.mock.calls.map((c) => String(c[0])).join('')
  try {
    const exitCode = presentError(error, json, debug)
    // Read the captured calls before restoring: mockRestore() clears them.
    return {exitCode, stdout: text(stdout), stderr: plain(text(stderr))}
  } finally {
    stdout.mockRestore()
    stderr.mockRestore()
  }
}

/** An error as oclif's parser really throws it (has a `parse` property, exit 2). */
const parseError = async (argv: string[]): Promise<Error> => {
  try {
    await Parser.parse(argv, {flags: {known: Flags.boolean()}, args: {}, strict: true})
  } catch (error) {
    return error as Error
  }
  throw new Error('expected the parser to reject ' + argv.join(' '))
}

describe('typed errors', () => {
  it.each([
    ['UserError', new UserError('bad input', 'do this'), 1, 'user_error'],
    ['UserError with usage code', new UserError('wrong flag', 'see --help', ExitCode.usage), 2, 'usage'],
    ['UsageError', new UsageError('bad flag', 'see --help'), 2, 'usage'],
    ['PreflightError', new PreflightError('java missing', 'install it'), 3, 'preflight'],
    ['ReadinessTimeoutError', new ReadinessTimeoutError('kafka not ready', 'raise --wait-timeout'), 4, 'readiness_timeout'],
    ['InterruptedError', new InterruptedError(), 130, 'interrupted'],
    ['ExternalError', new ExternalError('apt-get install', 'E: no space'), 1, 'external'],
  ])('%s carries exit code %i and code %s', (_name, error, exitCode, code) => {
    expect(error).toBeInstanceOf(MmError)
    expect(error.exitCode).toBe(exitCode)
    expect(error.code).toBe(code)
  })

  it('names each error after its class', () => {
    expect(new PreflightError('x').name).toBe('PreflightError')
    expect(new UsageError('x').name).toBe('UsageError')
  })

  it('ExternalError keeps the last 20 lines of stderr, indented', () => {
    const lines = Array.from({length: 30}, (_, i) => `line ${i}`).join('\n')
    const error = new ExternalError('mvn', lines)
    expect(error.message.startsWith('mvn failed:\n  line 10\n')).toBe(true)
    expect(error.message).not.toContain('line 9\n')
    expect(error.message.endsWith('  line 29')).toBe(true)
    expect(new ExternalError('mvn', '').message).toBe('mvn failed')
  })
})

describe('presentError exit codes', () => {
  it.each([
    [new UserError('u'), 1],
    [new UsageError('u'), 2],
    [new PreflightError('p'), 3],
    [new ReadinessTimeoutError('r'), 4],
    [new InterruptedError(), 130],
  ])('returns the exit code of %s', (error, exitCode) => {
    expect(present(error, false).exitCode).toBe(exitCode)
    expect(present(error, true).exitCode).toBe(exitCode)
  })
})

describe('duration flags (src/flags.ts)', () => {
  const parse = (argv: string[]) => Parser.parse(argv, {flags: {every: durationFlag({min: 100, max: 60_000})}})

  it('give milliseconds', async () => {
    expect((await parse(['--every', '0.5m'])).flags.every).toBe(30_000)
    expect((await parse(['--every', '250ms'])).flags.every).toBe(250)
  })

  it.each([
    ['soon', '--every must be a duration like 500ms, 30s, 2m or 1h (got "soon")'],
    ['10ms', '--every must be at least 100ms (got "10ms")'],
    ['2h', '--every must be at most 1m00s (got "2h")'],
  ])('refuse %s as a usage error naming the flag and the bound (exit 2)', async (value, message) => {
    const error = await parse(['--every', value]).catch((e: Error) => e)
    const shown = present(error as Error, true)
    expect(shown.exitCode).toBe(2)
    expect(JSON.parse(shown.stdout).error).toEqual({code: 'usage', message, hint: 'see --help'})
  })
})

describe('the wait timeout flags (--timeout, --wait-timeout)', () => {
  const commands = [
    ['wait', Wait, 'timeout'],
    ['projections verify', ProjectionsVerify, 'timeout'],
    ['projections rebuild', ProjectionsRebuild, 'timeout'],
    ['up', Up, 'wait-timeout'],
  ] as const
  const parse = (Cmd: {flags: object}, argv: string[]) => Parser.parse(argv, {flags: Cmd.flags as Interfaces.FlagInput, strict: false})

  it.each(commands)('mm %s parses its flag once, into the milliseconds config reads', async (_id, Cmd, flag) => {
    const {flags} = await parse(Cmd, [`--${flag}`, '1m30s'])
    const ms = (flags as Record<string, number | undefined>)[flag]
    expect(ms).toBe(90_000)
    expect(loadConfig({flags: {waitTimeout: durationSetting(ms)}, env: {MM_WAIT_TIMEOUT: '7s'}, cwd: '/nonexistent'}).waitTimeoutMs).toBe(90_000)
  })

  it.each(commands)('mm %s refuses a value that is not a duration as a usage error (exit 2)', async (_id, Cmd, flag) => {
    const error = await parse(Cmd, [`--${flag}`, 'soon']).catch((e: Error) => e)
    const shown = present(error as Error, true)
    expect(shown.exitCode).toBe(2)
    expect(JSON.parse(shown.stdout).error.message).toBe(`--${flag} must be a duration like 500ms, 30s, 2m or 1h (got "soon")`)
  })

  it('read MM_WAIT_TIMEOUT, their twin, through the same parser', async () => {
    vi.stubEnv('MM_WAIT_TIMEOUT', '45s')
    expect((await parse(Wait, [])).flags.timeout).toBe(45_000)
    vi.stubEnv('MM_WAIT_TIMEOUT', 'soon')
    const error = await parse(Up, []).catch((e: Error) => e)
    expect(present(error as Error, true).exitCode).toBe(2)
  })

  it('without the flag, MM_WAIT_TIMEOUT and the default still apply', async () => {
    vi.stubEnv('MM_WAIT_TIMEOUT', '') // empty: not set, for oclif and for src/config
    const {flags} = await parse(Wait, [])
    expect(durationSetting(flags.timeout)).toBeUndefined()
    expect(loadConfig({flags: {waitTimeout: durationSetting(flags.timeout)}, env: {MM_WAIT_TIMEOUT: '7s'}, cwd: '/nonexistent'}).waitTimeoutMs).toBe(7000)
    expect(loadConfig({flags: {waitTimeout: undefined}, env: {}, cwd: '/nonexistent'}).waitTimeoutMs).toBe(120_000)
  })
})

describe('unreachable (one "cannot reach" error)', () => {
  it('names what did not answer and why, with the one hint, the error as its cause', () => {
    const cause = new Error('connect ECONNREFUSED 127.0.0.1:9092')
    const error = unreachable('Kafka at 127.0.0.1:9092', cause)
    expect(error).toBeInstanceOf(UserError)
    expect(error.message).toBe('cannot reach Kafka at 127.0.0.1:9092: connect ECONNREFUSED 127.0.0.1:9092')
    expect(error.hint).toBe(NOT_UP_HINT)
    expect(NOT_UP_HINT).toBe('is the platform up? check mm status, start it with mm up -d')
    expect(error.cause).toBe(cause)
  })

  it('passes an error mm already presents through unchanged', () => {
    const known = new PreflightError('java 21 is missing', 'run mm infra install')
    expect(unreachable('MongoDB', known)).toBe(known)
  })
})

describe('presentError in JSON mode', () => {
  it('writes {"error":{code,message,hint}} to stdout and nothing to stderr', () => {
    const {exitCode, stdout, stderr} = present(new PreflightError('java 21 is missing', 'run mm infra install'), true)
    expect(exitCode).toBe(3)
    expect(stderr).toBe('')
    expect(stdout.endsWith('\n')).toBe(true)
    expect(stdout.trim().split('\n')).toHaveLength(1)
    expect(JSON.parse(stdout)).toEqual({error: {code: 'preflight', message: 'java 21 is missing', hint: 'run mm infra install'}})
  })

  it('emits valid JSON for messages with quotes and newlines', () => {
    const {stdout} = present(new UserError('bad "value"\nsecond line', 'fix it'), true)
    expect(JSON.parse(stdout).error).toEqual({code: 'user_error', message: 'bad "value"\nsecond line', hint: 'fix it'})
  })

  it('does not print a stack trace even in debug mode', () => {
    const {stdout, stderr} = present(new Error('boom'), true, true)
    expect(stderr).toBe('')
    expect(stdout).not.toContain('at ')
    expect(JSON.parse(stdout).error.message).toBe('boom')
  })
})

describe('presentError in text mode', () => {
  it('writes the message and the hint to stderr and nothing to stdout', () => {
    const {exitCode, stdout, stderr} = present(new ReadinessTimeoutError('kafka not ready after 120s', 'raise --wait-timeout'), false)
    expect(exitCode).toBe(4)
    expect(stdout).toBe('')
    expect(stderr).toBe('✖ kafka not ready after 120s\n  → raise --wait-timeout\n')
  })

  it('omits the hint line when there is no hint', () => {
    const {stderr} = present(new InterruptedError('stopped by Ctrl-C'), false)
    expect(stderr).toBe('✖ stopped by Ctrl-C\n')
  })

  it('does not print the stack of a typed error in debug mode', () => {
    const {stderr} = present(new UserError('u', 'h'), false, true)
    expect(stderr).not.toContain('errors-and-presenter.test')
  })
})

describe('presentError for unknown errors', () => {
  it('maps a plain Error to exit 1 with a hint to report it', () => {
    const {exitCode, stderr, stdout} = present(new TypeError('cannot read properties of undefined'), false)
    expect(exitCode).toBe(1)
    expect(stdout).toBe('')
    const [first, second] = stderr.split('\n')
    expect(first).toBe('✖ cannot read properties of undefined')
    expect(second).toMatch(/→ .*bug.*--log-level debug/)
  })

  it('gives the unknown error code "failure" and a hint in JSON', () => {
    const {exitCode, stdout} = present(new Error('boom'), true)
    expect(exitCode).toBe(1)
    const {error} = JSON.parse(stdout)
    expect(error.code).toBe('failure')
    expect(error.message).toBe('boom')
    expect(error.hint).toEqual(expect.any(String))
    expect(error.hint.length).toBeGreaterThan(0)
  })

  it('prints the stack only in debug mode', () => {
    const error = new Error('boom')
    expect(present(error, false, false).stderr).not.toContain(error.stack!.split('\n')[1]!.trim())
    expect(present(error, false, true).stderr).toContain(error.stack!.split('\n')[1]!.trim())
  })

  it('falls back to the string form of an error without a message', () => {
    const {stderr} = present(new Error(''), false)
    expect(stderr.split('\n')[0]).toBe('✖ Error')
  })
})

describe('presentError for oclif parse errors', () => {
  it('maps an object with a `parse` property to exit 2', () => {
    const error = Object.assign(new Error('Unexpected argument: foo'), {parse: {}})
    const {exitCode, stderr} = present(error, false)
    expect(exitCode).toBe(2)
    expect(stderr).toBe('✖ Unexpected argument: foo\n  → see --help\n')
  })

  it("maps the parser's real error to a usage error without oclif's trailer", async () => {
    const error = await parseError(['--nope'])
    expect(error).toHaveProperty('parse')
    const {exitCode, stdout} = present(error, true)
    expect(exitCode).toBe(2)
    const json = JSON.parse(stdout).error
    expect(json.code).toBe('usage')
    expect(json.message).toContain('--nope')
    expect(json.message).not.toContain('See more help with --help')
    expect(json.hint).toBe('see --help')
  })

  it('maps an error with oclif exit 2 to a usage error', () => {
    const error = Object.assign(new Error('missing required flag'), {oclif: {exit: 2}})
    expect(present(error, false).exitCode).toBe(2)
  })
})
