import {readdirSync, readFileSync, readlinkSync} from 'node:fs'

/**
 * This process's open TCP connections per remote port (Linux /proc): how a test sees that a client
 * it closed really let go of its servers. Only the ports asked for are counted.
 */
export const connectionsTo = (ports: number[]): Record<number, number> => {
  const wanted = new Set(ports)
  const byInode = new Map<string, number>()
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch {
      continue
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/)
      if (cols.length < 10 || cols[3] === '0A') continue // 0A: a listening socket
      const port = Number.parseInt(cols[2]!.split(':')[1]!, 16)
      if (wanted.has(port)) byInode.set(cols[9]!, port)
    }
  }
  const counts: Record<number, number> = Object.fromEntries(ports.map((p) => [p, 0]))
  for (const fd of readdirSync('/proc/self/fd')) {
    let link: string
    try {
      link = readlinkSync(`/proc/self/fd/${fd}`)
    } catch {
      continue // closed meanwhile
    }
    const port = byInode.get(/^socket:\[(\d+)\]$/.exec(link)?.[1] ?? '')
    if (port !== undefined) counts[port]!++
  }
  return counts
}
