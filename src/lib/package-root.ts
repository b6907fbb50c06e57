import {existsSync, readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

let root: string | undefined
/** The directory holding mm's package.json (works from src/ under tsx and from dist/). */
export const packageRoot = (): string => {
  if (root) return root
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const pkg = join(dir, 'package.json')
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'mm') return (root = dir)
    const parent = dirname(dir)
    if (parent === dir) throw new Error('cannot find the mm package root')
    dir = parent
  }
}

export const assetPath = (...parts: string[]): string => join(packageRoot(), 'assets', ...parts)
