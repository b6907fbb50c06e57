/**
 * Money in human output, from the integer cents the platform stores (PLATFORM.md: money as integer
 * minor units): `R$ 1.234,50`, Brazilian real as pt-BR writes it. `--json` keeps the integer cents.
 */
export const formatMoney = (cents: number | bigint): string => {
  if (typeof cents === 'number' && !Number.isFinite(cents)) return '-'
  const value = typeof cents === 'bigint' ? cents : BigInt(Math.round(cents))
  const sign = value < 0n ? '-' : ''
  const abs = value < 0n ? -value : value
  const units = (abs / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, '.')
  const fraction = (abs % 100n).toString().padStart(2, '0')
  return `${sign}R$ ${units},${fraction}`
}
