import {readdirSync} from 'node:fs'
import {join} from 'node:path'

import {which} from '../system.js'

/** A Java server whose jars `mm infra install` fetched with Maven into the cache. */
export const libDir = (cacheDir: string, name: 'kafka' | 'mongo'): string => join(cacheDir, name, 'lib')

export const hasJars = (dir: string): boolean => {
  try {
    return readdirSync(dir).some((f) => f.endsWith('.jar'))
  } catch {
    return false
  }
}

/** Version from a jar file name such as kafka_2.13-3.9.1.jar. */
export const jarVersion = (dir: string, pattern: RegExp): string | undefined => {
  try {
    for (const file of readdirSync(dir)) {
      const m = pattern.exec(file)
      if (m) return m[1]
    }
  } catch {
    /* not installed */
  }
  return undefined
}

export const javaBinary = (): string | undefined => which('java')

export const javaRequirement = () => ({what: 'Java 17+ (java)', ok: javaBinary() !== undefined, fix: 'mm infra install (apt: openjdk-17-jre-headless)'})
