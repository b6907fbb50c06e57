import {execFile} from 'node:child_process'
import {existsSync, mkdirSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {promisify} from 'node:util'

import {ExternalError, UserError} from '../../../lib/errors.js'
import {assetPath} from '../../../lib/package-root.js'
import type {NativeContext, NativeServer} from '../server.js'
import {hasJars, jarVersion, javaBinary, javaRequirement, libDir} from './java.js'

const JVM = ['-Xms64m', '-Xmx512m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Djava.awt.headless=true']
const LAUNCHER = 'MmMongoServer'

/**
 * MongoDB has no package here, so native mode runs mongo-java-server (Maven Central), a
 * MongoDB-wire-compatible server, through a small launcher: H2-backed for `mm up` so data survives
 * restarts, in memory for tests. See README "Why mongo-java-server".
 */
export const mongo: NativeServer = {
  name: 'mongo',
  ports: [{name: 'main', standard: 27017}],
  processMatch: LAUNCHER,
  implementation: 'mongo-java-server',
  requirements: (cacheDir) => [
    javaRequirement(),
    {what: 'mongo-java-server jars and launcher', ok: hasJars(libDir(cacheDir, 'mongo')) && existsSync(classFile(cacheDir)), fix: 'mm infra install (Maven: de.bwaldvogel:mongo-java-server)'},
  ],
  version: (cacheDir) => {
    const v = jarVersion(libDir(cacheDir, 'mongo'), /^mongo-java-server-(\d+\.\d+\.\d+)\.jar$/)
    return v ? `4.4 (mongo-java-server ${v})` : undefined
  },
  prepare: async (ctx) => {
    mkdirSync(ctx.dir, {recursive: true})
    await ensureLauncher(ctx.cacheDir)
  },
  spawn: (ctx) => {
    const java = javaBinary()
    if (!java) throw new UserError('Java is not installed', 'run: mm infra install')
    const lib = libDir(ctx.cacheDir, 'mongo')
    return {
      file: java,
      args: [...JVM, '-cp', `${lib}/*:${classesDir(ctx.cacheDir)}`, LAUNCHER, '--bind', '127.0.0.1', '--port', String(ctx.ports.main), ...(ctx.persistent ? ['--data', join(ctx.dir, 'mongo.mv.db')] : [])],
    }
  },
  url: (ctx: NativeContext) => `mongodb://127.0.0.1:${ctx.ports.main}/`,
}

const classesDir = (cacheDir: string) => join(cacheDir, 'mongo', 'classes')
const classFile = (cacheDir: string) => join(classesDir(cacheDir), `${LAUNCHER}.class`)

/** Compiles the launcher into the cache when missing or older than its source (idempotent). */
export const ensureLauncher = async (cacheDir: string): Promise<boolean> => {
  const source = assetPath('native', 'mongo', `${LAUNCHER}.java`)
  const target = classFile(cacheDir)
  if (existsSync(target) && statSync(target).mtimeMs >= statSync(source).mtimeMs) return false
  const lib = libDir(cacheDir, 'mongo')
  if (!hasJars(lib)) throw new UserError('the mongo-java-server jars are not installed', 'run: mm infra install')
  mkdirSync(classesDir(cacheDir), {recursive: true})
  try {
    await promisify(execFile)('javac', ['-nowarn', '-cp', `${lib}/*`, '-d', classesDir(cacheDir), source], {timeout: 120_000})
  } catch (error) {
    throw new ExternalError('javac MmMongoServer.java', String((error as {stderr?: string}).stderr ?? error), 'install a JDK (apt: openjdk-17-jdk-headless), then mm infra install')
  }
  return true
}
