import type {CustomerData} from '../shared/events.js'
import {writeModelReader} from '../shared/write-model.js'
import {type CustomerRow, SCHEMA, toCustomer} from './domain.js'

/**
 * Customers as the read model should show them (read only): each row as the CustomerData that
 * customer publishes for its version. query's verify and rebuild read the write model through this.
 */
export const customerSource = writeModelReader<CustomerRow, CustomerData>({
  from: `"${SCHEMA}".customers t`,
  columns: 't.id, t.name, t.email, t.address, t.orders_count, t.version, t.created_at, t.updated_at',
  data: toCustomer,
})
