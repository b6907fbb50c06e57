import {mkdirSync, openSync, readFileSync, rmSync, writeSync, closeSync} from 'node:fs'
import {dirname} from 'node:path'

import {UserError} from '../lib/errors.js'
import {isAlive} from '../lib/proc.js'

/** An exclusive lock file holding the owner's pid; a lock whose owner is gone is taken over. */
export const acquireLock = (path: string): (() => void) => {
  mkdirSync(dirname(path), {recursive: true})
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx')
      writeSync(fd, String(process.pid))
      closeSync(fd)
      return () => rmSync(path, {force: true})
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const owner = Number(readFileSync(path, 'utf8').trim())
      if (isAlive(owner) && owner !== process.pid) {
        throw new UserError(`another mm up (pid ${owner}) is starting this platform`, 'wait for it to finish, or stop it')
      }
      rmSync(path, {force: true})
    }
  }
  throw new UserError(`cannot take the lock ${path}`, 'remove it if no mm up is running')
}
