/** Sparklines of the Trends panel; the samples themselves come from src/operations/collectors/trends.ts. */
const BLOCKS = '▁▂▃▄▅▆▇█'

/** The last `width` values as a sparkline scaled to their maximum; gaps (undefined) are blank. */
export const sparkline = (values: readonly (number | undefined)[], width: number): string => {
  const shown = values.slice(-width)
  const max = Math.max(0, ...shown.filter((v): v is number => v !== undefined))
  const line = shown.map((v) => (v === undefined ? ' ' : max === 0 ? BLOCKS[0]! : BLOCKS[Math.min(7, Math.floor((v / max) * 7.999))]!)).join('')
  return line.padStart(width, ' ')
}
