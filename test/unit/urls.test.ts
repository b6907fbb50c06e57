import {describe, expect, it} from 'vitest'

import {maskUrl} from '../../src/lib/urls.js'

describe('maskUrl', () => {
  it('hides the password and keeps user, host, port and path', () => {
    expect(maskUrl('postgres://mm:secret@localhost:5432/mercadomio')).toBe('postgres://mm:***@localhost:5432/mercadomio')
  })

  it.each([
    ['amqp://guest:guest@127.0.0.1:5672/%2f', 'amqp://guest:***@127.0.0.1:5672/%2f'],
    ['redis://default:pw@127.0.0.1:6379/0', 'redis://default:***@127.0.0.1:6379/0'],
    ['mongodb://root:hunter2@127.0.0.1:27017/mm?authSource=admin', 'mongodb://root:***@127.0.0.1:27017/mm?authSource=admin'],
    ['http://admin:s%40cr%3At@127.0.0.1:15672/api', 'http://admin:***@127.0.0.1:15672/api'],
  ])('masks %s', (input, expected) => {
    const masked = maskUrl(input)
    expect(masked).toBe(expected)
  })

  it('never leaks an encoded password', () => {
    const masked = maskUrl('postgres://mm:p%40ss%2Fw0rd@db:5432/x')
    expect(masked).not.toContain('p%40ss')
    expect(masked).not.toContain('w0rd')
    expect(masked).toContain('mm:***@db:5432')
  })

  it.each(['postgres://localhost:5432/mercadomio', 'redis://127.0.0.1:6379', 'postgres://mm@localhost/db', 'http://127.0.0.1:8080/health'])(
    'returns a URL without a password unchanged: %s',
    (url) => {
      expect(maskUrl(url)).toBe(url)
    },
  )

  it('masks the password of a string the URL parser rejects', () => {
    // An invalid port makes `new URL` throw: the regex fallback still hides the secret.
    const masked = maskUrl('postgres://mm:secret@db:notaport/x')
    expect(masked).toBe('postgres://mm:***@db:notaport/x')
    expect(masked).not.toContain('secret')
  })

  it('returns non-URL text unchanged and does not throw', () => {
    expect(maskUrl('not a url')).toBe('not a url')
    expect(maskUrl('')).toBe('')
    expect(maskUrl('127.0.0.1:9092')).toBe('127.0.0.1:9092')
  })
})
