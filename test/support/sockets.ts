import {readdirSync, readlinkSync} from 'node:fs'

import {tcpSockets} from '../../src/lib/proc.js'

/**
 * This process's open TCP connections per remote port (Linux /proc): how a test sees that a client
 * it closed really let go of its servers. Only the ports asked for are counted.
 */
export const connectionsTo = (ports: number[]): Record<number, number> => {
  const wanted = new Set(ports)
  const byInode = new Map<string, number>()
  for (const s of tcpSockets()) if (s.state !== '0A' && wanted.has(s.remotePort)) byInode.set(s.inode, s.remotePort)
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
