import {type Envelope, parseEnvelope} from '../shared/envelope.js'
import {PoisonMessageError} from '../shared/errors.js'
import type {ConsumedMessage} from '../shared/kafka.js'
import {applyCustomer, applyOrder, applyProduct} from './apply.js'
import {customerData, orderData, productData} from './schemas.js'
import type {Views} from './views.js'

export type Outcome = 'applied' | 'stale' | 'ignored'

/** Applies one envelope to the views. stock.* need no view change (products_view follows product.*). */
export const project = async (v: Views, e: Envelope): Promise<Outcome> => {
  const done = (applied: boolean): Outcome => (applied ? 'applied' : 'stale')
  switch (e.type) {
    case 'customer.created':
    case 'customer.updated':
      return done(await applyCustomer(v, e.aggregate_version, customerData(e)))
    case 'product.created':
    case 'product.updated':
      return done(await applyProduct(v, e.aggregate_version, productData(e)))
    case 'order.created':
    case 'order.reserved':
    case 'order.paid':
    case 'order.canceled':
      return done(await applyOrder(v, e.aggregate_version, orderData(e)))
    case 'stock.reserved':
    case 'stock.rejected':
    case 'stock.released':
      return 'ignored'
    default:
      throw new PoisonMessageError(`unknown event type ${JSON.stringify(e.type)}`)
  }
}

export interface ProjectorStats {
  applied: number
  stale: number
  ignored: number
  lastEventAt?: string
  lastOccurredAt?: string
}

/** The consumer's handler: parse (poison → DLQ at once), project, report. */
export const createProjector = (v: Views, onHandled: (e: Envelope, outcome: Outcome) => void) => {
  const stats: ProjectorStats = {applied: 0, stale: 0, ignored: 0}
  const handle = async ({message}: ConsumedMessage): Promise<void> => {
    const envelope = parseEnvelope(message.value)
    const outcome = await project(v, envelope)
    stats[outcome]++
    stats.lastEventAt = new Date().toISOString()
    stats.lastOccurredAt = envelope.occurred_at
    onHandled(envelope, outcome)
  }
  return {handle, stats}
}
