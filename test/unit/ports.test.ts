import {readFileSync} from 'node:fs'
import {createServer, type Server} from 'node:net'
import {afterEach, describe, expect, it} from 'vitest'

import {choosePorts, freePort, isPortFree} from '../../src/lib/ports.js'

const servers: Server[] = []

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))))
})

/** Listens on 127.0.0.1:port (0 = any) with a real server, closed after the test. */
const occupy = (port = 0): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen({port, host: '127.0.0.1'}, () => {
      servers.push(server)
      resolve((server.address() as {port: number}).port)
    })
  })

/** The kernel's range for port 0 binds: freePort() never returns a port outside it. */
const ephemeralRange = (): [number, number] => {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number)
    if (low && high) return [low, high]
  } catch {
    /* not Linux */
  }
  return [49_152, 65_535]
}

/**
 * A free port below the ephemeral range, so that the kernel never hands it out for port 0 and
 * "ephemeral mode ignored it" cannot pass by accident.
 */
const freeStandardPort = async (exclude: number[] = []): Promise<number> => {
  const [low] = ephemeralRange()
  const top = Math.min(low, 30_000)
  const start = 20_000 + Math.floor(Math.random() * (top - 20_000 - 200))
  for (let port = start; port < top; port++) {
    if (!exclude.includes(port) && (await isPortFree(port))) return port
  }
  throw new Error('no free port below the ephemeral range')
}

describe('isPortFree', () => {
  it('is false while a server listens on 127.0.0.1:<port>, true once it closes', async () => {
    const port = await occupy()
    expect(await isPortFree(port)).toBe(false)
    await new Promise<void>((resolve) => servers.pop()!.close(() => resolve()))
    expect(await isPortFree(port)).toBe(true)
  })

  it('is true for a port nobody listens on', async () => {
    expect(await isPortFree(await freeStandardPort())).toBe(true)
  })
})

describe('freePort', () => {
  it('returns a bindable port', async () => {
    const port = await freePort()
    expect(port).toBeGreaterThan(0)
    expect(await occupy(port)).toBe(port)
  })
})

describe('choosePorts', () => {
  it('prefers the previous port when it is free', async () => {
    const previous = await freeStandardPort()
    const standard = await freeStandardPort([previous])
    expect(await choosePorts([{name: 'postgres', standard, previous}], 'standard')).toEqual({postgres: previous})
  })

  it('takes the standard port when there is no previous one and it is free', async () => {
    const standard = await freeStandardPort()
    expect(await choosePorts([{name: 'redis', standard}], 'standard')).toEqual({redis: standard})
  })

  it('takes the standard port when the previous one is taken', async () => {
    const previous = await occupy()
    const standard = await freeStandardPort()
    expect(await choosePorts([{name: 'redis', standard, previous}], 'standard')).toEqual({redis: standard})
  })

  it('falls back to a free port when the standard port is taken', async () => {
    const standard = await occupy()
    const {kafka} = await choosePorts([{name: 'kafka', standard}], 'standard')
    expect(kafka).toBeDefined()
    expect(kafka).not.toBe(standard)
    expect(await isPortFree(kafka!)).toBe(true)
  })

  it('falls back when both previous and standard are taken', async () => {
    const previous = await occupy()
    const standard = await occupy()
    const {mongo} = await choosePorts([{name: 'mongo', standard, previous}], 'standard')
    expect([previous, standard]).not.toContain(mongo)
    expect(await isPortFree(mongo!)).toBe(true)
  })

  it('never returns the same port twice, even when every entry wants the same one', async () => {
    const standard = await freeStandardPort()
    const wanted = ['a', 'b', 'c', 'd'].map((name) => ({name, standard, previous: standard}))
    const chosen = await choosePorts(wanted, 'standard')
    expect(Object.keys(chosen).sort()).toEqual(['a', 'b', 'c', 'd'])
    expect(new Set(Object.values(chosen)).size).toBe(4)
    expect(chosen.a).toBe(standard)
  })

  it('never returns duplicates across many ephemeral picks', async () => {
    const wanted = Array.from({length: 12}, (_, i) => ({name: `s${i}`, standard: 1}))
    const ports = Object.values(await choosePorts(wanted, 'ephemeral'))
    expect(ports).toHaveLength(12)
    expect(new Set(ports).size).toBe(12)
  })

  it('skips ports in `taken` and adds what it chose to it', async () => {
    const standard = await freeStandardPort()
    const taken = new Set([standard])
    const {x} = await choosePorts([{name: 'x', standard}], 'standard', taken)
    expect(x).not.toBe(standard)
    expect(taken.has(x!)).toBe(true)
  })

  it('ephemeral mode ignores the standard port even when it is free', async () => {
    const standard = await freeStandardPort()
    const [low, high] = ephemeralRange()
    const {rabbitmq} = await choosePorts([{name: 'rabbitmq', standard}], 'ephemeral')
    expect(rabbitmq).not.toBe(standard)
    expect(rabbitmq).toBeGreaterThanOrEqual(low)
    expect(rabbitmq).toBeLessThanOrEqual(high)
  })

  it('ephemeral mode still reuses a free previous port', async () => {
    const previous = await freeStandardPort()
    const standard = await freeStandardPort([previous])
    expect(await choosePorts([{name: 'redis', standard, previous}], 'ephemeral')).toEqual({redis: previous})
  })
})
