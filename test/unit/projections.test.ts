import {describe, expect, it} from 'vitest'

import {compareDocument, plain} from '../../services/query/compare.js'
import {customerDocument, orderDocument, orderSkeleton, orderState, productDocument} from '../../services/query/documents.js'
import type {CustomerData, OrderData, ProductData} from '../../services/shared/events.js'
import {parseViews} from '../../src/operations/projections/views.js'
import {UsageError} from '../../src/lib/errors.js'

const customer: CustomerData = {
  id: 'c1',
  name: 'Ana',
  email: 'ana@x.test',
  address: null,
  orders_count: 2,
  created_at: '2026-03-01T10:00:00.000Z',
  updated_at: '2026-03-01T11:00:00.000Z',
}
const product = (id: string, name: string): ProductData => ({
  id,
  sku: `SKU-${id}`,
  name,
  price_cents: 250,
  stock: 9,
  created_at: '2026-03-01T10:00:00.000Z',
  updated_at: '2026-03-01T10:30:00.000Z',
})
const order: OrderData = {
  id: 'o1',
  customer_id: 'c1',
  status: 'PAID',
  total_cents: 750,
  items: [
    {product_id: 'p1', quantity: 1, unit_price_cents: 250},
    {product_id: 'p2', quantity: 2, unit_price_cents: 250},
  ],
  created_at: '2026-03-01T10:00:00.000Z',
  updated_at: '2026-03-01T10:05:00+00:00',
  paid_at: '2026-03-01T10:05:00.000Z',
  canceled_at: null,
  cancel_reason: null,
}
const products = new Map([
  ['p1', {sku: 'SKU-p1', name: 'Mug', fill_version: 3}],
  ['p2', {sku: 'SKU-p2', name: 'Cup', fill_version: 1}],
])
const expected = () => orderDocument(order, 3, {name: 'Ana', email: 'ana@x.test', fill_version: 5}, (id) => products.get(id))

describe('the document a view should hold', () => {
  it('an order: the state of its event, the skeleton of its first, names copied as the fills copy them', () => {
    expect(expected()).toEqual({
      _id: 'o1',
      ...orderState(order, 3),
      customer: {id: 'c1', name: 'Ana', email: 'ana@x.test'},
      customer_version: 5,
      items: [
        {product_id: 'p1', sku: 'SKU-p1', name: 'Mug', quantity: 1, unit_price_cents: 250, product_version: 3},
        {product_id: 'p2', sku: 'SKU-p2', name: 'Cup', quantity: 2, unit_price_cents: 250, product_version: 1},
      ],
    })
    // Dates are instants, whatever offset the producer wrote.
    expect(expected().updated_at).toEqual(new Date('2026-03-01T10:05:00.000Z'))
  })

  it('an order whose customer or products are unknown keeps null names, as the projector leaves them', () => {
    const doc = orderDocument(order, 1, undefined, () => undefined)
    expect(doc.customer).toEqual(orderSkeleton(order).customer)
    expect(doc.items.map((i) => [i.sku, i.name, i.product_version])).toEqual([
      [null, null, 0],
      [null, null, 0],
    ])
  })

  it('customers and products at a version, their names copied at that version', () => {
    expect(customerDocument(customer, 4)).toMatchObject({
      _id: 'c1',
      orders_count: 2,
      version: 4,
      fill_version: 4,
      filled_version: 4,
      created_at: new Date(customer.created_at),
    })
    expect(productDocument(product('p1', 'Mug'), 2)).toMatchObject({_id: 'p1', stock: 9, version: 2, fill_version: 2})
  })
})

describe('compareDocument', () => {
  it('finds nothing in an equal document, whatever its bookkeeping of name copies', () => {
    const doc = {...expected(), customer_version: 1, items: expected().items.map((i) => ({...i, product_version: 0})), fill_version: 9}
    expect(compareDocument('orders', expected(), doc)).toEqual([])
  })

  it('names each field that differs, with both values as JSON', () => {
    const e = expected()
    const doc = {
      ...e,
      status: 'CANCELED',
      total_cents: 1,
      customer: {...e.customer, name: 'Old'},
      paid_at: null,
      version: 2,
      items: [{...e.items[0]!, name: 'Jug'}],
    }
    expect(compareDocument('orders', e, doc)).toEqual([
      {field: 'status', expected: 'PAID', actual: 'CANCELED'},
      {field: 'total_cents', expected: 750, actual: 1},
      {field: 'customer.name', expected: 'Ana', actual: 'Old'},
      {field: 'items[0].name', expected: 'Mug', actual: 'Jug'},
      {field: 'items[1]', expected: {product_id: 'p2', sku: 'SKU-p2', name: 'Cup', quantity: 2, unit_price_cents: 250}, actual: null},
      {field: 'paid_at', expected: '2026-03-01T10:05:00.000Z', actual: null},
      {field: 'version', expected: 3, actual: 2},
    ])
  })

  it('an extra item, items that are not a list, stock and orders_count', () => {
    const e = expected()
    const extra = {product_id: 'p9', sku: 'X', name: 'X', quantity: 1, unit_price_cents: 1, product_version: 0}
    expect(compareDocument('orders', e, {...e, items: [...e.items, extra]})).toEqual([
      {field: 'items[2]', expected: null, actual: {product_id: 'p9', sku: 'X', name: 'X', quantity: 1, unit_price_cents: 1}},
    ])
    expect(compareDocument('orders', e, {...e, items: undefined})[0]).toMatchObject({field: 'items', actual: null})
    const p = productDocument(product('p1', 'Mug'), 2)
    expect(compareDocument('products', p, {...p, stock: 8})).toEqual([{field: 'stock', expected: 9, actual: 8}])
    const c = customerDocument(customer, 4)
    expect(compareDocument('customers', c, {...c, orders_count: 3, address: undefined})).toEqual([{field: 'orders_count', expected: 2, actual: 3}])
  })

  it('plain() turns stored values into JSON', () => {
    expect(plain({at: new Date('2026-01-01T00:00:00Z'), gone: undefined, list: [new Date(0)]})).toEqual({
      at: '2026-01-01T00:00:00.000Z',
      gone: null,
      list: ['1970-01-01T00:00:00.000Z'],
    })
  })
})

describe('parseViews', () => {
  it('takes collection names or short names; none means all', () => {
    expect(parseViews([])).toBeUndefined()
    expect(parseViews(['orders_view', 'customers', 'orders'])).toEqual(['orders', 'customers'])
  })

  it('an unknown view is a usage error naming the views', () => {
    expect(() => parseViews(['order'])).toThrow(UsageError)
    try {
      parseViews(['nope'])
    } catch (error) {
      expect((error as UsageError).hint).toBe('the views are customers_view, products_view, orders_view')
    }
  })
})
