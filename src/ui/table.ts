// eslint-disable-next-line no-control-regex
const ANSI = /\u001B\[[0-9;]*m/g
const visible = (s: string): number => s.replace(ANSI, '').length

/** A plain, aligned text table: header row, then rows. No borders, so it pastes cleanly. */
export const table = (header: string[], rows: string[][]): string => {
  const widths = header.map((h, i) => Math.max(visible(h), ...rows.map((r) => visible(r[i] ?? ''))))
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(widths[i]! - visible(c))))
      .join('  ')
      .trimEnd()
  return [line(header), ...rows.map(line)].join('\n')
}
