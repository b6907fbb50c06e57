import {readdirSync, readFileSync, readlinkSync} from 'node:fs'

/** True when a process with this pid exists (and is not a zombie). */
export const isAlive = (pid: number | undefined): boolean => {
  if (!pid || pid <= 0) return false
  try {
    process.kill(pid, 0)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return true // no /proc (macOS): trust kill(0)
  }
}

export const cmdline = (pid: number): string | undefined => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ')
  } catch {
    return undefined
  }
}

/** Sends a signal to a process group (when we started it detached) or the process; ignores the gone. */
export const signal = (pid: number, sig: NodeJS.Signals, group = true): boolean => {
  try {
    process.kill(group ? -pid : pid, sig)
    return true
  } catch {
    try {
      process.kill(pid, sig)
      return true
    } catch {
      return false
    }
  }
}

// Abortable waits live with the components (services/shared/wait.ts); the CLI uses the same ones.
export {sleep, untilAborted, waitFor} from '../../services/shared/wait.js'
import {waitFor} from '../../services/shared/wait.js'

/** The live processes of process group `pgid` (Linux /proc; empty elsewhere). */
export const groupMembers = (pgid: number): number[] => {
  let pids: string[]
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p))
  } catch {
    return []
  }
  return pids.map(Number).filter((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ') // state ppid pgrp …
      return fields[0] !== 'Z' && Number(fields[2]) === pgid
    } catch {
      return false
    }
  })
}

/** Stops a process: SIGTERM, wait, then SIGKILL. Resolves once it is gone. */
export const stopProcess = async (pid: number, {timeoutMs = 15_000, group = true} = {}): Promise<void> => {
  if (!isAlive(pid)) return
  signal(pid, 'SIGTERM', group)
  const gone = await waitFor(async () => (isAlive(pid) ? undefined : true), {timeoutMs, intervalMs: 100})
  if (!gone) {
    signal(pid, 'SIGKILL', group)
    await waitFor(async () => (isAlive(pid) ? undefined : true), {timeoutMs: 5000, intervalMs: 50})
  }
}

export interface Listener {
  port: number
  address: string
  pid?: number
  command?: string
}

/** One TCP socket of the machine, from /proc/net/tcp and tcp6 (Linux). */
export interface TcpSocket {
  inode: string
  /** Kernel state in hex: '0A' listening, '01' established. */
  state: string
  localAddress: string
  localPort: number
  remotePort: number
}

/** Every TCP socket of the machine (/proc/net/tcp and tcp6); empty where /proc is absent. */
export const tcpSockets = (): TcpSocket[] => {
  const sockets: TcpSocket[] = []
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch {
      continue
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/)
      if (cols.length < 10) continue
      const [addrHex, portHex] = cols[1]!.split(':')
      sockets.push({
        inode: cols[9]!,
        state: cols[3]!,
        localAddress: decodeAddress(addrHex!),
        localPort: Number.parseInt(portHex!, 16),
        remotePort: Number.parseInt(cols[2]!.split(':')[1]!, 16),
      })
    }
  }
  return sockets
}

/** Who listens on a TCP port, from /proc (Linux). Empty when nothing does or /proc is absent. */
export const listenersOn = (port: number): Listener[] => {
  const inodes = new Map<string, {address: string}>()
  for (const s of tcpSockets()) if (s.state === '0A' && s.localPort === port) inodes.set(s.inode, {address: s.localAddress}) // 0A = LISTEN
  if (inodes.size === 0) return []
  const found: Listener[] = []
  let pids: string[] = []
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p))
  } catch {
    /* no /proc */
  }
  for (const pid of pids) {
    let fds: string[]
    try {
      fds = readdirSync(`/proc/${pid}/fd`)
    } catch {
      continue
    }
    for (const fd of fds) {
      let link: string
      try {
        link = readlinkSync(`/proc/${pid}/fd/${fd}`)
      } catch {
        continue
      }
      const m = /^socket:\[(\d+)\]$/.exec(link)
      const hit = m && inodes.get(m[1]!)
      if (hit) {
        found.push({port, address: hit.address, pid: Number(pid), command: cmdline(Number(pid))})
        inodes.delete(m[1]!)
      }
    }
  }
  for (const rest of inodes.values()) found.push({port, address: rest.address})
  return found
}

const decodeAddress = (hex: string): string => {
  if (hex.length === 8) {
    return [3, 2, 1, 0].map((i) => Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join('.')
  }
  if (/^0+$/.test(hex)) return '::'
  if (hex === '00000000000000000000000001000000') return '::1'
  return 'ipv6'
}
