import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {ROOT} from '../e2e/cli.js'

export interface CaseFigures {
  fault: string
  load: string
  /** Outbox rows, queued or unacked messages and consumer lag just before the kill. */
  inFlight: number
  /** Orders the write model gained during the case (mm load orders and the witness). */
  orders: number
  /** Of them, orders the test created and followed itself. */
  witnessed: number
  /** Pulses the broker confirmed to mm load pulses during the case. */
  pulses: number
  lost: number
  countedTwice: number
  repairMs: number
  /** Kafka producers replaced after the broker refused their producer id (kafka.producer_renewed in the logs). */
  renewals: number
  problems: number
}

const BEGIN = '<!-- chaos:begin (written by npm run test:chaos) -->'
const END = '<!-- chaos:end -->'

/** Replaces the figures section of RELIABILITY.md with this run's. */
export const writeReliability = (rows: CaseFigures[], env: {node: string; cores: number}): void => {
  const path = join(ROOT, 'RELIABILITY.md')
  const doc = readFileSync(path, 'utf8')
  const start = doc.indexOf(BEGIN)
  const end = doc.indexOf(END)
  if (start < 0 || end < start) throw new Error(`RELIABILITY.md lacks the ${BEGIN} … ${END} markers`)
  const table = [
    `Last run: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, Node ${env.node}, ${env.cores} cores.`,
    '',
    '| fault | load | in flight at the kill | orders during the case (witnessed) | pulses confirmed | lost | counted twice | time to repair | producers renewed | oracles |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|---|',
    ...rows.map(
      (r) =>
        `| ${r.fault} | ${r.load} | ${r.inFlight} | ${r.orders} (${r.witnessed}) | ${r.pulses} | ${r.lost} | ${r.countedTwice} | ${(r.repairMs / 1000).toFixed(1)} s | ${r.renewals} | ${r.problems === 0 ? 'all hold' : `${r.problems} broken`} |`,
    ),
  ].join('\n')
  writeFileSync(path, `${doc.slice(0, start + BEGIN.length)}\n${table}\n${doc.slice(end)}`)
}
