import type {Kafka, Producer} from 'kafkajs'
import {KafkaJSNonRetriableError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError} from 'kafkajs'
import {describe, expect, it} from 'vitest'

import {silentLogger} from '../../src/lib/logger.js'
import {createRenewingProducer, needsNewProducerId} from '../../services/shared/kafka-producer.js'

const protocolError = (type: string) => new KafkaJSProtocolError({type, code: 0, retriable: false, message: `broker said ${type}`} as never)

describe('needsNewProducerId', () => {
  it('recognises the errors after which the producer id is useless, however kafkajs wraps them', () => {
    expect(needsNewProducerId(protocolError('OUT_OF_ORDER_SEQUENCE_NUMBER'))).toBe(true)
    expect(needsNewProducerId(protocolError('UNKNOWN_PRODUCER_ID'))).toBe(true)
    expect(
      needsNewProducerId(new KafkaJSNumberOfRetriesExceeded(protocolError('INVALID_PRODUCER_EPOCH') as never, {retryCount: 8, retryTime: 100} as never)),
    ).toBe(true)
    expect(needsNewProducerId(Reflect.construct(KafkaJSNonRetriableError, ['outer', {cause: protocolError('OUT_OF_ORDER_SEQUENCE_NUMBER')}]))).toBe(true)
    expect(needsNewProducerId({errors: [new Error('x'), protocolError('UNKNOWN_PRODUCER_ID')]})).toBe(true)
  })

  it('leaves every other error alone', () => {
    expect(needsNewProducerId(protocolError('LEADER_NOT_AVAILABLE'))).toBe(false)
    expect(needsNewProducerId(new Error('Connection error: ECONNREFUSED'))).toBe(false)
    expect(needsNewProducerId(undefined)).toBe(false)
    expect(needsNewProducerId('OUT_OF_ORDER_SEQUENCE_NUMBER')).toBe(false)
  })
})

/** A stand-in for kafkajs: each producer fails its sends with the errors queued for it. */
const fakeKafka = () => {
  const made: {id: number; connected: boolean; sent: number; failures: Error[]}[] = []
  const kafka = {
    producer: () => {
      const state = {id: made.length + 1, connected: false, sent: 0, failures: [] as Error[]}
      made.push(state)
      const send = async () => {
        if (!state.connected) throw new Error('producer is disconnected')
        const failure = state.failures.shift()
        if (failure) throw failure
        state.sent++
        return []
      }
      return {
        connect: async () => void (state.connected = true),
        disconnect: async () => void (state.connected = false),
        send,
        sendBatch: send,
      } as unknown as Producer
    },
  } as unknown as Kafka
  return {kafka, made}
}

describe('createRenewingProducer', () => {
  it('replaces the producer once when the broker refuses its id, and the retry goes out on the new one', async () => {
    const {kafka, made} = fakeKafka()
    const producer = createRenewingProducer(kafka, silentLogger)
    await producer.connect()
    made[0]!.failures.push(protocolError('OUT_OF_ORDER_SEQUENCE_NUMBER'), protocolError('OUT_OF_ORDER_SEQUENCE_NUMBER'))
    // Two sends in flight on the refused producer: one renewal, not two.
    const results = await Promise.allSettled([producer.send({topic: 't', messages: []}), producer.sendBatch({topicMessages: []})])
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected'])
    expect(producer.renewals()).toBe(1)
    await producer.send({topic: 't', messages: []})
    expect(made).toHaveLength(2)
    expect(made[0]!.connected).toBe(false)
    expect(made[1]!.sent).toBe(1)
  })

  it('keeps the producer on other errors', async () => {
    const {kafka, made} = fakeKafka()
    const producer = createRenewingProducer(kafka, silentLogger)
    made[0]!.failures.push(new Error('Connection error'))
    await expect(producer.send({topic: 't', messages: []})).rejects.toThrow('Connection error')
    await producer.send({topic: 't', messages: []})
    expect(producer.renewals()).toBe(0)
    expect(made).toHaveLength(1)
    await producer.disconnect()
    await expect(producer.send({topic: 't', messages: []})).rejects.toThrow(/closed/)
  })
})
