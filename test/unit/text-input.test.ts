import {describe, expect, it} from 'vitest'

import {jsonBodyText} from '../../services/shared/amqp-body.js'
import {PoisonMessageError} from '../../services/shared/errors.js'
import {dottedPath, findTextFault, textFault} from '../../services/shared/text.js'

const reason = (f: () => unknown): string => {
  try {
    f()
  } catch (error) {
    expect(error).toBeInstanceOf(PoisonMessageError)
    return (error as Error).message
  }
  throw new Error('accepted')
}

describe('text that cannot be stored', () => {
  it('names NUL and unpaired surrogates, and accepts valid pairs', () => {
    expect(textFault('a\u0000b')).toBe('contains a NUL character')
    expect(textFault('\ud800')).toBe('contains an unpaired UTF-16 surrogate')
    expect(textFault('\udc00x')).toBe('contains an unpaired UTF-16 surrogate')
    expect(textFault('😀 ünï')).toBeUndefined()
  })

  it('finds the first fault of a parsed value by its path, keys included', () => {
    expect(findTextFault({a: 'ok', items: [{id: 'x'}, {id: 'y\u0000'}]})).toEqual({path: ['items', 1, 'id'], fault: 'contains a NUL character'})
    expect(findTextFault({a: {'k\ud800': 1}})).toEqual({path: ['a'], fault: 'has a key that contains an unpaired UTF-16 surrogate'})
    expect(findTextFault({a: [1, null, true, 'fine']})).toBeUndefined()
    expect(dottedPath('', ['data', 'items', 0, 'product_id'])).toBe('data.items[0].product_id')
  })

  it('walks 100,000 levels of nesting without overflowing the stack', () => {
    const deep = JSON.parse(`${'['.repeat(100_000)}"\\u0000"${']'.repeat(100_000)}`)
    expect(findTextFault(deep)?.path).toHaveLength(100_000)
  })
})

describe('the JSON body of a RabbitMQ message', () => {
  const body = Buffer.from('{"a":1}')

  it('takes no content type as JSON, and JSON media types in UTF-8', () => {
    expect(jsonBodyText(body)).toBe('{"a":1}')
    expect(jsonBodyText(body, {contentType: 'application/json; charset="UTF-8"', contentEncoding: 'utf-8'})).toBe('{"a":1}')
    expect(jsonBodyText(body, {contentType: 'application/vnd.mm.pulse+json'})).toBe('{"a":1}')
  })

  it('names what is wrong with anything else', () => {
    expect(reason(() => jsonBodyText(body, {contentType: 'text/plain'}))).toBe('content type text/plain is not JSON: send application/json')
    expect(reason(() => jsonBodyText(body, {contentType: 'application/json; charset=latin1'}))).toBe('charset latin1 is not supported: JSON bodies are UTF-8')
    expect(reason(() => jsonBodyText(body, {contentEncoding: 'gzip'}))).toBe('content encoding gzip is not supported: send the JSON body unencoded')
    expect(reason(() => jsonBodyText(Buffer.from([0x7b, 0xff, 0x7d])))).toBe('body is not valid UTF-8')
  })
})
