import {isUtf8} from 'node:buffer'

// In a `u` regex \p{Cs} matches only unpaired surrogates (a valid pair is one code point).
const LONE_SURROGATE = /\p{Cs}/u

/**
 * Why a string cannot be kept as text, or undefined: PostgreSQL refuses NUL in text, and an
 * unpaired UTF-16 surrogate has no UTF-8 form (it would be replaced by U+FFFD without a word, so
 * two different values could become one).
 */
export const textFault = (s: string): string | undefined => {
  if (s.includes('\u0000')) return 'contains a NUL character'
  if (LONE_SURROGATE.test(s)) return 'contains an unpaired UTF-16 surrogate'
  return undefined
}

/** Where a fault was found: the path of keys and indexes from the root, and what is wrong. */
export interface TextFault {
  path: (string | number)[]
  fault: string
}

/**
 * The first string of a parsed JSON value, keys included, that cannot be kept as text. Walks
 * without recursion (a body may nest 100,000 levels deep) and builds a path only for the fault.
 */
export const findTextFault = (value: unknown): TextFault | undefined => {
  interface Node {
    value: unknown
    key?: string | number
    parent?: Node
  }
  const pathOf = (node: Node | undefined): (string | number)[] => {
    const path: (string | number)[] = []
    for (let n = node; n && n.key !== undefined; n = n.parent) path.unshift(n.key)
    return path
  }
  const stack: Node[] = [{value}]
  while (stack.length > 0) {
    const node = stack.pop()!
    const v = node.value
    if (typeof v === 'string') {
      const fault = textFault(v)
      if (fault) return {path: pathOf(node), fault}
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({value: v[i], key: i, parent: node})
    } else if (typeof v === 'object' && v !== null) {
      const entries = Object.entries(v)
      for (const [key] of entries) {
        const fault = textFault(key)
        if (fault) return {path: pathOf(node), fault: `has a key that ${fault}`}
      }
      for (let i = entries.length - 1; i >= 0; i--) stack.push({value: entries[i]![1], key: entries[i]![0], parent: node})
    }
  }
  return undefined
}

/** `data.items[0].product_id`: a path as the consumers' reasons name fields. */
export const dottedPath = (root: string, path: (string | number)[]): string =>
  path.reduce<string>((out, k) => (typeof k === 'number' ? `${out}[${k}]` : out === '' ? k : `${out}.${k}`), root)

/** The text of a message body that must be UTF-8, or undefined when it is not (never decoded with U+FFFD replacements). */
export const utf8Text = (bytes: Buffer): string | undefined => (isUtf8(bytes) ? bytes.toString('utf8') : undefined)
