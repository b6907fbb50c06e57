import {createServer} from 'node:net'

/** True when nothing listens on host:port (we could bind it ourselves). */
export const isPortFree = (port: number, host = '127.0.0.1'): Promise<boolean> =>
  new Promise((resolve) => {
    const server = createServer()
    server.unref()
    server.once('error', () => resolve(false))
    server.listen({port, host, exclusive: true}, () => server.close(() => resolve(true)))
  })

/** A port the kernel considers free right now. */
export const freePort = (host = '127.0.0.1'): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once('error', reject)
    server.listen({port: 0, host, exclusive: true}, () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
    })
  })

/**
 * Picks a port for each wanted name: the previously used one if still free, else the standard
 * one if free, else any free port. Never returns the same port twice in one call.
 */
export const choosePorts = async (
  wanted: {name: string; standard: number; previous?: number}[],
  mode: 'standard' | 'ephemeral',
  taken: Set<number> = new Set(),
): Promise<Record<string, number>> => {
  const chosen: Record<string, number> = {}
  for (const want of wanted) {
    const candidates = mode === 'standard' ? [want.previous, want.standard] : [want.previous]
    let port: number | undefined
    for (const candidate of candidates) {
      if (candidate && !taken.has(candidate) && (await isPortFree(candidate))) {
        port = candidate
        break
      }
    }
    while (port === undefined) {
      const candidate = await freePort()
      if (!taken.has(candidate)) port = candidate
    }
    taken.add(port)
    chosen[want.name] = port
  }
  return chosen
}
