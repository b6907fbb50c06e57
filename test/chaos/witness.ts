import {randomUUID} from 'node:crypto'

/**
 * The test's own customer: orders created and paid through the HTTP API while a fault is
 * injected, recording only what the platform acknowledged. A request that failed or timed out is
 * retried (the create with the same Idempotency-Key), so an acknowledgement lost in a crash is
 * settled by the retry rather than guessed. What was acknowledged must be found afterwards.
 */
export interface WitnessOrder {
  id: string
  /** The platform answered 200 to the pay (or 409 because it was already PAID). */
  paid: boolean
  /** The status it last answered for the order. */
  seen: string
}

export interface Witness {
  orders: WitnessOrder[]
  /** Requests that failed and were retried: how much of the fault the client felt. */
  retries: number
  /** Answers that no retry can mend (a 4xx where none was due). */
  errors: string[]
  stop(): Promise<void>
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const call = async (
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{status: number; body: any} | undefined> => {
  try {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {...(body === undefined ? {} : {'content-type': 'application/json'}), ...headers},
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    })
    const text = await res.text()
    return {status: res.status, body: text ? JSON.parse(text) : undefined}
  } catch {
    return undefined // connection refused or reset, timeout: the platform is down or restarting
  }
}

/** Starts `perSecond` orders a second (quantity 1 of `productId`) until stopped; each is followed until PAID or given up after `giveUpMs`. */
export const startWitness = (o: {gateway: string; customerId: string; productId: string; perSecond: number; giveUpMs?: number}): Witness => {
  const giveUp = o.giveUpMs ?? 120_000
  const w: Witness = {orders: [], retries: 0, errors: [], stop: async () => {}}
  let running = true
  const inFlight = new Set<Promise<void>>()

  /** Retries `attempt` until it returns a value or the deadline passes. */
  const retrying = async <T>(deadline: number, attempt: () => Promise<T | undefined>): Promise<T | undefined> => {
    for (;;) {
      const value = await attempt()
      if (value !== undefined) return value
      if (Date.now() > deadline) return undefined
      w.retries++
      await sleep(250)
    }
  }

  const one = async () => {
    const deadline = Date.now() + giveUp
    const key = randomUUID()
    const created = await retrying(deadline, async () => {
      const r = await call(o.gateway, 'POST', '/orders', {customer_id: o.customerId, items: [{product_id: o.productId, quantity: 1}]}, {'idempotency-key': key})
      if (r === undefined || r.status >= 500) return undefined
      if (r.status !== 201 && r.status !== 200) throw new Error(`POST /orders answered ${r.status}: ${JSON.stringify(r.body)}`)
      return r.body.id as string
    })
    if (!created) return
    const order: WitnessOrder = {id: created, paid: false, seen: 'PENDING'}
    w.orders.push(order)
    const reserved = await retrying(deadline, async () => {
      const r = await call(o.gateway, 'GET', `/orders/${created}`)
      if (r?.status !== 200 || r.body.status === 'PENDING') return undefined
      order.seen = r.body.status
      return r.body.status as string
    })
    if (reserved !== 'RESERVED') return
    await retrying(deadline, async () => {
      const r = await call(o.gateway, 'POST', `/orders/${created}/pay`)
      if (r === undefined || r.status >= 500) return undefined
      if (r.status === 200 || (r.status === 409 && String(r.body?.error?.message).includes('PAID'))) {
        order.paid = true
        order.seen = 'PAID'
        return true
      }
      throw new Error(`POST /orders/${created}/pay answered ${r.status}: ${JSON.stringify(r.body)}`)
    })
  }

  const loop = (async () => {
    const every = 1000 / o.perSecond
    for (let next = Date.now(); running; next += every) {
      const tracked: Promise<void> = one()
        .catch((error: unknown) => void w.errors.push((error as Error).message))
        .finally(() => inFlight.delete(tracked))
      inFlight.add(tracked)
      await sleep(Math.max(0, next + every - Date.now()))
    }
  })()

  w.stop = async () => {
    running = false
    await loop
    await Promise.all(inFlight)
  }
  return w
}
