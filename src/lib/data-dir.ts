import {accessSync, constants, existsSync, statSync} from 'node:fs'
import {dirname, resolve} from 'node:path'

/** Whether a directory can hold mm's data: `ok`, or why not. */
export type DataDirCheck = {ok: true; detail: string} | {ok: false; detail: string}

/**
 * Checks that `dir` is, or can be created as, a writable directory, without creating anything:
 * the directory itself when it exists, else its nearest existing ancestor.
 */
export const checkDataDir = (dir: string): DataDirCheck => {
  const target = resolve(dir)
  let probe = target
  while (!existsSync(probe)) {
    const up = dirname(probe)
    if (up === probe) break
    probe = up
  }
  try {
    if (!statSync(probe).isDirectory())
      return {ok: false, detail: probe === target ? `${dir} is not a directory` : `${dir} cannot be created: ${probe} is not a directory`}
    accessSync(probe, constants.W_OK)
  } catch {
    return {ok: false, detail: probe === target ? `${dir} is not writable` : `${dir} cannot be created: ${probe} is not writable`}
  }
  return {ok: true, detail: probe === target ? `${dir} writable` : `${dir} can be created (in ${probe})`}
}
