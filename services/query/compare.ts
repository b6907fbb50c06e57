import type {CustomerDoc, OrderDoc, OrderItemDoc, ProductDoc, ViewKey} from './views.js'

/**
 * Field-by-field comparison of a view document with the one the write model calls for. Compared:
 * everything the API shows, and `version` (a view whose version is off ignores, or wrongly
 * applies, the next event). Not compared: the bookkeeping of the name copies (`fill_version`,
 * `filled_version`, `customer_version`, `items[].product_version`), which differs between a view
 * built event by event and one rebuilt at once without either being wrong.
 */

/** One field that differs, with both values as JSON (dates as ISO-8601, absent as null). */
export interface FieldDifference {
  field: string
  expected: unknown
  actual: unknown
}

/** A stored value as JSON: dates as ISO strings, absent as null. */
export const plain = (v: unknown): unknown => {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? String(v) : v.toISOString()
  if (v === undefined) return null
  if (Array.isArray(v)) return v.map(plain)
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]))
  return v
}

const same = (a: unknown, b: unknown): boolean => {
  const x = plain(a)
  const y = plain(b)
  return x === y || (x !== null && y !== null && typeof x === 'object' && typeof y === 'object' && JSON.stringify(x) === JSON.stringify(y))
}

type Doc = Record<string, unknown>

const fields = (out: FieldDifference[], prefix: string, keys: readonly string[], expected: Doc, actual: Doc): void => {
  for (const k of keys) if (!same(expected[k], actual[k])) out.push({field: `${prefix}${k}`, expected: plain(expected[k]), actual: plain(actual[k])})
}

const CUSTOMER_FIELDS = [
  'id',
  'name',
  'email',
  'address',
  'orders_count',
  'created_at',
  'updated_at',
  'version',
] as const satisfies readonly (keyof CustomerDoc)[]
const PRODUCT_FIELDS = ['id', 'sku', 'name', 'price_cents', 'stock', 'created_at', 'updated_at', 'version'] as const satisfies readonly (keyof ProductDoc)[]
const ORDER_FIELDS = [
  'id',
  'status',
  'total_cents',
  'created_at',
  'updated_at',
  'paid_at',
  'canceled_at',
  'cancel_reason',
  'version',
] as const satisfies readonly (keyof OrderDoc)[]
const ORDER_CUSTOMER_FIELDS = ['id', 'name', 'email'] as const
const ITEM_FIELDS = ['product_id', 'sku', 'name', 'quantity', 'unit_price_cents'] as const satisfies readonly (keyof OrderItemDoc)[]

/** An item as shown in a difference: what the API shows of it. */
const itemOf = (i: Doc | undefined): unknown => (i === undefined ? null : plain(Object.fromEntries(ITEM_FIELDS.map((k) => [k, i[k] ?? null]))))

const compareItems = (out: FieldDifference[], expected: unknown, actual: unknown): void => {
  if (!Array.isArray(actual)) {
    out.push({field: 'items', expected: (expected as Doc[]).map((i) => itemOf(i)), actual: plain(actual)})
    return
  }
  const e = expected as Doc[]
  const a = actual as Doc[]
  for (let i = 0; i < Math.max(e.length, a.length); i++) {
    const x = e[i]
    const y = a[i] !== null && typeof a[i] === 'object' ? a[i] : undefined
    // A missing or an extra item is one difference naming the item, not one per field.
    if (x === undefined || y === undefined) out.push({field: `items[${i}]`, expected: itemOf(x), actual: y === undefined ? plain(a[i]) : itemOf(y)})
    else fields(out, `items[${i}].`, ITEM_FIELDS, x, y)
  }
}

/** The fields of `actual` that differ from `expected` (empty when the document is right). */
export const compareDocument = (view: ViewKey, expected: object, actual: object): FieldDifference[] => {
  const out: FieldDifference[] = []
  const e = expected as Doc
  const a = actual as Doc
  switch (view) {
    case 'customers':
      fields(out, '', CUSTOMER_FIELDS, e, a)
      break
    case 'products':
      fields(out, '', PRODUCT_FIELDS, e, a)
      break
    case 'orders': {
      fields(out, '', ['status', 'total_cents'], e, a)
      const customer = (a.customer !== null && typeof a.customer === 'object' ? a.customer : {}) as Doc
      fields(out, 'customer.', ORDER_CUSTOMER_FIELDS, e.customer as Doc, customer)
      compareItems(out, e.items, a.items)
      fields(
        out,
        '',
        ORDER_FIELDS.filter((k) => k !== 'status' && k !== 'total_cents'),
        e,
        a,
      )
      break
    }
  }
  return out
}
