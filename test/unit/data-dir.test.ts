import {existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'

import {checkDataDir} from '../../src/lib/data-dir.js'

describe('checkDataDir', () => {
  const root = mkdtempSync(join(tmpdir(), 'mm-data-dir-'))
  afterAll(() => rmSync(root, {recursive: true, force: true}))

  it('accepts an existing writable directory', () => {
    expect(checkDataDir(root)).toEqual({ok: true, detail: `${root} writable`})
  })

  it('accepts a directory that can be created, and creates nothing', () => {
    const dir = join(root, 'a', 'b', '.mm')
    expect(checkDataDir(dir)).toEqual({ok: true, detail: `${dir} can be created (in ${root})`})
    expect(existsSync(join(root, 'a'))).toBe(false)
  })

  it('refuses a file, and a path through a file', () => {
    const file = join(root, 'file')
    writeFileSync(file, 'x')
    expect(checkDataDir(file)).toEqual({ok: false, detail: `${file} is not a directory`})
    expect(checkDataDir(join(file, 'logs'))).toEqual({ok: false, detail: `${join(file, 'logs')} cannot be created: ${file} is not a directory`})
  })
})
