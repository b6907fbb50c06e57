import {describe, expect, it} from 'vitest'

import {formatMoney} from '../../src/ui/money.js'

describe('formatMoney', () => {
  it.each([
    [30190, 'R$ 301,90'],
    [0, 'R$ 0,00'],
    [5, 'R$ 0,05'],
    [2500, 'R$ 25,00'],
    [123456789, 'R$ 1.234.567,89'],
    [-1050, '-R$ 10,50'],
    [12345678901234567890n, 'R$ 123.456.789.012.345.678,90'],
  ])('%s cents → %s', (cents, text) => expect(formatMoney(cents)).toBe(text))
})
