/**
 * Exact decimal amounts for ingest (PLATFORM.md §3.5). An amount is an integer number of
 * "units" of 10^-12, the scale of the `ingest.pulses.used_amount numeric(38, 12)` column, kept
 * in a BigInt from the raw JSON text of the number: no binary floating point anywhere, so
 * 0.1 + 0.2 is exactly 0.3.
 *
 * Limits (documented in services/ingest/FLUSH.md):
 * - at most 12 decimal places (more significant digits are rejected, trailing zeros are fine);
 * - one pulse at most MAX_PULSE_UNITS, i.e. 9223372036854775807.999999999999;
 * - exponent forms (`1e-7`, `2.5E+3`) are evaluated exactly under the same rules.
 */
export const SCALE = 12
export const UNIT = 10n ** BigInt(SCALE)
export const INT64_MAX = 2n ** 63n - 1n
/** Largest single amount: the whole part must fit a Redis integer (HINCRBY is signed 64-bit). */
export const MAX_PULSE_UNITS = INT64_MAX * UNIT + (UNIT - 1n)

/** Why an amount was refused; the message is meant for the dead letter's reason header. */
export class AmountError extends Error {
  override name = 'AmountError'
}

// The JSON number grammar (RFC 8259 §6), captured: sign, integer, fraction, exponent.
const JSON_NUMBER = /^(-)?(0|[1-9][0-9]*)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?$/

/** Parses the text of a JSON number into units of 10^-SCALE, exactly, or throws AmountError. */
export const parseAmount = (text: string): bigint => {
  const m = JSON_NUMBER.exec(text)
  if (!m) throw new AmountError(`used_amount ${JSON.stringify(text.slice(0, 40))} is not a JSON number`)
  const [, minus, intPart = '', fracPart = '', expPart] = m
  const digits = (intPart + fracPart).replace(/^0+/, '')
  if (digits === '') return 0n // 0, -0, 0.000, 0e5: zero is zero whatever its spelling
  if (minus) throw new AmountError(`used_amount ${text.slice(0, 40)} is negative`)
  // Exponents beyond a few digits can only mean "too large" or "too many decimals".
  if (expPart !== undefined && expPart.replace(/^[+-]?0*/, '').length > 6) {
    throw new AmountError(
      expPart.startsWith('-') ? `used_amount ${text.slice(0, 40)} has more than ${SCALE} decimal places` : `used_amount ${text.slice(0, 40)} is too large`,
    )
  }
  // value = digits × 10^shift units
  const shift = Number(expPart ?? 0) - fracPart.length + SCALE
  let units: bigint
  if (shift >= 0) {
    if (digits.length + shift > 40) throw new AmountError(`used_amount ${text.slice(0, 40)} is too large`)
    units = BigInt(digits) * 10n ** BigInt(shift)
  } else {
    const kept = digits.length + shift
    if (kept <= 0 || !/^0+$/.test(digits.slice(kept))) {
      throw new AmountError(`used_amount ${text.slice(0, 40)} has more than ${SCALE} decimal places`)
    }
    units = BigInt(digits.slice(0, kept))
  }
  if (units > MAX_PULSE_UNITS) throw new AmountError(`used_amount ${text.slice(0, 40)} is too large (max ${formatAmount(MAX_PULSE_UNITS)})`)
  return units
}

/** Units back to the shortest exact decimal text: 300000000000n → "0.3", 2n * UNIT → "2". */
export const formatAmount = (units: bigint): string => {
  const sign = units < 0n ? '-' : ''
  const abs = units < 0n ? -units : units
  const whole = abs / UNIT
  const frac = (abs % UNIT).toString().padStart(SCALE, '0').replace(/0+$/, '')
  return `${sign}${whole}${frac ? `.${frac}` : ''}`
}

/** Normalises a PostgreSQL numeric text ("0.300000000000") to the shortest form ("0.3"). */
export const normalizeDecimal = (text: string): string => {
  if (!text.includes('.')) return text
  const trimmed = text.replace(/0+$/, '').replace(/\.$/, '')
  return trimmed === '-0' ? '0' : trimmed
}

/** Splits units into the two integers kept in Redis: whole units and the fraction (0 ≤ f < UNIT). */
export const splitUnits = (units: bigint): {whole: bigint; frac: bigint} => ({whole: units / UNIT, frac: units % UNIT})

/** The inverse of splitUnits. */
export const joinUnits = (whole: bigint, frac: bigint): bigint => whole * UNIT + frac
