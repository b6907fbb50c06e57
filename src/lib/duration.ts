const UNITS: Record<string, number> = {ms: 1, s: 1000, m: 60_000, h: 3_600_000}

/**
 * Parses "250ms", "30s", "2m", "1h", "1m30s" or a bare number (seconds) into milliseconds.
 * Returns undefined for anything else, so callers can say what was wrong.
 */
export const parseDuration = (input: string | number): number | undefined => {
  if (typeof input === 'number') return Number.isFinite(input) && input >= 0 ? input * 1000 : undefined
  const text = input.trim()
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy
  let total = 0
  let consumed = 0
  for (const match of text.matchAll(re)) {
    total += Number(match[1]) * UNITS[match[2]!]!
    consumed += match[0].length
  }
  return consumed === text.length && consumed > 0 ? total : undefined
}

export const formatDuration = (ms: number): string => {
  if (Math.round(ms) < 1000) return `${Math.round(ms)}ms`
  if (ms < 9_950) return `${(ms / 1000).toFixed(1)}s`
  const s = Math.round(ms / 1000)
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
}
