import {UsageError} from '../../lib/errors.js'
import {parseDuration} from '../../lib/duration.js'

/** `p99<200ms`, `p50<=50ms`, `max<1s`, `errors<1%`, `rate>=90`: what k6 calls thresholds. */
export interface Threshold {
  expr: string
  metric: string
  op: '<' | '<=' | '>' | '>='
  value: number
}

export const parseThreshold = (expr: string): Threshold => {
  const m = /^\s*(p\d+(?:\.\d+)?|max|mean|errors|rate)\s*(<=|>=|<|>)\s*([\d.]+)\s*(ms|s|m|%)?\s*$/.exec(expr)
  if (!m) throw new UsageError(`cannot read threshold "${expr}"`, "write it like 'p99<200ms', 'max<1s', 'errors<1%' or 'rate>=90'")
  const [, metric, op, num, unit] = m as unknown as [string, string, Threshold['op'], string, string | undefined]
  let value = Number(num)
  if (metric === 'errors') {
    if (unit !== '%') throw new UsageError(`threshold "${expr}": errors are a percentage, e.g. errors<1%`)
  } else if (metric === 'rate') {
    if (unit) throw new UsageError(`threshold "${expr}": rate is orders per second, without a unit`)
  } else {
    const ms = parseDuration(`${num}${unit ?? 'ms'}`)
    if (ms === undefined || unit === '%') throw new UsageError(`threshold "${expr}": latency needs a duration, e.g. 200ms`)
    value = ms
  }
  return {expr: expr.trim(), metric, op, value}
}

export const holds = (t: Threshold, actual: number): boolean =>
  t.op === '<' ? actual < t.value : t.op === '<=' ? actual <= t.value : t.op === '>' ? actual > t.value : actual >= t.value
