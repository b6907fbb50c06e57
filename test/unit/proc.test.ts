import {type ChildProcess, spawn} from 'node:child_process'
import {existsSync, readFileSync} from 'node:fs'
import {createServer, type Server} from 'node:net'
import {afterEach, describe, expect, it} from 'vitest'

import {freePort} from '../../src/lib/ports.js'
import {groupMembers, isAlive, listenersOn, stopProcess, waitFor} from '../../src/lib/proc.js'

const linux = existsSync('/proc/net/tcp')

const children: ChildProcess[] = []
const servers: Server[] = []

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid!, 'SIGKILL')
      } catch {
        child.kill('SIGKILL')
      }
    }
  }
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))))
})

const listen = (host = '127.0.0.1'): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen({port: 0, host}, () => {
      servers.push(server)
      resolve((server.address() as {port: number}).port)
    })
  })

const exited = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())))

const start = (command: string, args: string[], detached = true): ChildProcess => {
  const child = spawn(command, args, {detached, stdio: 'ignore'})
  children.push(child)
  return child
}

describe.runIf(linux)('listenersOn', () => {
  it("finds this process's own pid for a port it listens on", async () => {
    const port = await listen()
    const found = listenersOn(port)
    expect(found).toHaveLength(1)
    expect(found[0]).toMatchObject({port, address: '127.0.0.1', pid: process.pid})
    expect(found[0]!.command).toContain(process.execPath.split('/').pop()!)
  })

  it('decodes the wildcard IPv4 address', async () => {
    const port = await listen('0.0.0.0')
    expect(listenersOn(port)).toEqual([expect.objectContaining({port, address: '0.0.0.0', pid: process.pid})])
  })

  it('is empty for a port nobody listens on', async () => {
    const port = await freePort()
    expect(listenersOn(port)).toEqual([])
  })

  it('stops reporting the port once the server closes', async () => {
    const port = await listen()
    expect(listenersOn(port)).toHaveLength(1)
    await new Promise<void>((resolve) => servers.pop()!.close(() => resolve()))
    expect(listenersOn(port)).toEqual([])
  })
})

describe('isAlive', () => {
  it('is true for this process', () => {
    expect(isAlive(process.pid)).toBe(true)
  })

  it('is false for a process that has exited', async () => {
    const child = start('true', [], false)
    const pid = child.pid!
    expect(pid).toBeGreaterThan(0)
    await exited(child)
    expect(isAlive(pid)).toBe(false)
  })

  it('is false for no pid, zero and negative pids', () => {
    expect(isAlive(undefined)).toBe(false)
    expect(isAlive(0)).toBe(false)
    expect(isAlive(-1)).toBe(false)
  })

  it('is true for a running child', async () => {
    const child = start('sleep', ['30'])
    expect(isAlive(child.pid)).toBe(true)
  })
})

describe('waitFor', () => {
  it('returns the first defined value before the deadline', async () => {
    let calls = 0
    const startedAt = Date.now()
    const value = await waitFor(async () => (++calls >= 3 ? 'ready' : undefined), {timeoutMs: 5000, intervalMs: 10})
    expect(value).toBe('ready')
    expect(calls).toBe(3)
    expect(Date.now() - startedAt).toBeLessThan(5000)
  })

  it('returns falsy values that are not undefined', async () => {
    expect(await waitFor(async () => 0, {timeoutMs: 100})).toBe(0)
    expect(await waitFor(async () => false, {timeoutMs: 100})).toBe(false)
  })

  it('returns undefined once the deadline passes, after polling more than once', async () => {
    let calls = 0
    const startedAt = Date.now()
    const value = await waitFor(
      async () => {
        calls++
        return undefined
      },
      {timeoutMs: 300, intervalMs: 20},
    )
    const elapsed = Date.now() - startedAt
    expect(value).toBeUndefined()
    expect(calls).toBeGreaterThan(2)
    expect(elapsed).toBeGreaterThanOrEqual(290)
    expect(elapsed).toBeLessThan(3000)
  })

  it('treats a check that throws as "not yet"', async () => {
    let calls = 0
    const value = await waitFor(
      async () => {
        if (++calls < 3) throw new Error('not yet')
        return 'ok'
      },
      {timeoutMs: 5000, intervalMs: 10},
    )
    expect(value).toBe('ok')
  })

  it('gives up early when the signal aborts', async () => {
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 50)
    const startedAt = Date.now()
    const value = await waitFor(async () => undefined, {timeoutMs: 10_000, intervalMs: 5000, signal: controller.signal})
    expect(value).toBeUndefined()
    expect(Date.now() - startedAt).toBeLessThan(5000)
  })
})

describe('stopProcess', () => {
  it('stops a detached `sleep 30` and it is gone after', async () => {
    const child = start('sleep', ['30'])
    const pid = child.pid!
    expect(isAlive(pid)).toBe(true)
    await stopProcess(pid, {timeoutMs: 5000})
    expect(isAlive(pid)).toBe(false)
    await exited(child)
    expect(child.signalCode).toBe('SIGTERM')
  })

  it.runIf(linux)('kills with SIGKILL a process that ignores SIGTERM', async () => {
    // `exec sleep` keeps the ignored SIGTERM disposition: only SIGKILL ends it.
    const child = start('sh', ['-c', 'trap "" TERM; exec sleep 30'])
    const pid = child.pid!
    // Give sh time to install the trap before it execs.
    const execed = await waitFor(async () => (readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep') ? true : undefined), {
      timeoutMs: 5000,
      intervalMs: 10,
    })
    expect(execed).toBe(true)
    await stopProcess(pid, {timeoutMs: 300})
    expect(isAlive(pid)).toBe(false)
    await exited(child)
    expect(child.signalCode).toBe('SIGKILL')
  })

  it('returns at once for a pid that is not running', async () => {
    const child = start('true', [], false)
    await exited(child)
    const startedAt = Date.now()
    await stopProcess(child.pid!, {timeoutMs: 5000})
    expect(Date.now() - startedAt).toBeLessThan(1000)
  })
})

describe('groupMembers', () => {
  it.runIf(linux)('finds what a killed launcher left running in its process group (what mm up reaps)', async () => {
    // A launcher script and its server, like rabbitmq-server and its Erlang VM.
    const child = start('sh', ['-c', 'sleep 30 & wait'])
    const pgid = child.pid!
    const server = await waitFor(async () => groupMembers(pgid).find((p) => p !== pgid), {timeoutMs: 5000, intervalMs: 10})
    expect(server).toBeGreaterThan(0)
    process.kill(pgid, 'SIGKILL') // the launcher alone
    await exited(child)
    expect(isAlive(pgid)).toBe(false)
    expect(groupMembers(pgid)).toEqual([server])
    process.kill(server!, 'SIGKILL')
    expect(await waitFor(async () => (groupMembers(pgid).length === 0 ? true : undefined), {timeoutMs: 5000, intervalMs: 10})).toBe(true)
  })
})
