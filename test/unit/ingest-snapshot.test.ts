import type {Redis} from 'ioredis'
import {describe, expect, it} from 'vitest'

import {amountText, type SnapshotChunk, snapshotChunks} from '../../services/ingest/snapshot.js'

/** A Redis whose HSCAN serves the given pages in order (cursor "1", "2", … then "0"). */
const pagedRedis = (pages: string[][]): Redis =>
  ({
    hscan: async (_hash: string, cursor: string) => {
      const i = Number(cursor)
      return [i + 1 < pages.length ? String(i + 1) : '0', pages[i]!]
    },
  }) as unknown as Redis

const read = async (pages: string[][], chunkKeys = 2500) => {
  const chunks: SnapshotChunk[] = []
  for await (const c of snapshotChunks(pagedRedis(pages), 'h', {chunkKeys})) chunks.push(c)
  return chunks
}

const id = (t: string, s: string, u: string) => JSON.stringify([t, s, u])

/** What PostgreSQL's COPY text format reads back from one line. */
const unescapeCopy = (line: string): string[] => line.split('\t').map((c) => c.replace(/\\(.)/g, (_, ch: string) => ({t: '\t', n: '\n', r: '\r'})[ch] ?? ch))

describe('snapshotChunks', () => {
  it("pairs a key's two fields across pages, emits each key once though HSCAN repeats fields, and skips fields that are not ours", async () => {
    const a = id('a', 's', 'u')
    const b = id('b', 's', 'u')
    const c = id('c', 's', 'u')
    const chunks = await read([
      [`w${a}`, '1', `f${b}`, '5', 'other', 'x'],
      [`f${a}`, '2', `w${a}`, '1', `w${b}`, '7'],
      [`f${a}`, '2', `w${c}`, '3', 'w[1,2]', '4', `f${b}`, '5'], // repeats; c never gets its f; w[1,2] is not a tuple
    ])
    const lines = chunks.flatMap((ch) => ch.text.split('\n').filter(Boolean)).sort()
    expect(lines).toEqual(['a\ts\tu\t1.000000000002', 'b\ts\tu\t7.000000000005', 'c\ts\tu\t3.000000000000'])
    expect(chunks.reduce((n, ch) => n + ch.keys, 0)).toBe(3)
  })

  it('escapes what COPY text treats specially and round-trips any string', async () => {
    const keys: [string, string, string][] = [
      ['tab\there', 'new\nline', 'cr\rback\\slash'],
      ['\\N', '\\.', '"quoted","comma"'],
      ['ünï', '😀', 'plain'],
      ['a","b', 'c', 'd'],
    ]
    const chunks = await read([keys.flatMap(([t, s, u], i) => [`w${id(t, s, u)}`, String(i), `f${id(t, s, u)}`, '0'])])
    const rows = chunks[0]!.text.split('\n').filter(Boolean).map(unescapeCopy)
    expect(rows.map((r) => r.slice(0, 3))).toEqual(keys)
    expect(chunks[0]!.first).toEqual(keys[0]) // the chunk's first key, decoded
  })

  it('yields a small first chunk, then chunks of chunkKeys', async () => {
    const page = (from: number) =>
      Array.from({length: 100}, (_, i) => [`w${id('t', String(from + i), 'u')}`, '1', `f${id('t', String(from + i), 'u')}`, '0']).flat()
    const chunks = await read([page(0), page(100), page(200), page(300)], 200)
    expect(chunks.map((c) => c.keys)).toEqual([100, 200, 100])
  })
})

describe('amountText', () => {
  it('writes whole and fraction exactly', () => {
    expect(amountText('0', '1')).toBe('0.000000000001')
    expect(amountText('9223372036854775807', '999999999999')).toBe('9223372036854775807.999999999999')
    expect(amountText('-1', '5')).toBe('-0.999999999995') // not written by ingest, still exact
  })
})
