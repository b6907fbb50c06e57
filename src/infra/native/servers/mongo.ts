import {execFile} from 'node:child_process'
import {createHash} from 'node:crypto'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
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
    {
      what: 'mongo-java-server jars and launcher',
      ok: hasJars(libDir(cacheDir, 'mongo')) && existsSync(classFile(cacheDir)),
      fix: 'mm infra install (Maven: de.bwaldvogel:mongo-java-server)',
    },
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
      args: [
        ...JVM,
        '-cp',
        `${lib}/*:${classesDir(ctx.cacheDir)}`,
        LAUNCHER,
        '--bind',
        '127.0.0.1',
        '--port',
        String(ctx.ports.main),
        ...(ctx.persistent ? ['--data', join(ctx.dir, 'mongo.mv.db')] : []),
      ],
    }
  },
  url: (ctx: NativeContext) => `mongodb://127.0.0.1:${ctx.ports.main}/`,
}

const classesDir = (cacheDir: string) => join(cacheDir, 'mongo', 'classes')
const classFile = (cacheDir: string) => join(classesDir(cacheDir), `${LAUNCHER}.class`)

/**
 * Compiles the launcher into the cache unless the classes there were built from this very source
 * (its SHA-256 is kept beside them): a checkout of another version, older or newer, rebuilds it,
 * whatever the files' times say. Idempotent.
 */
export const ensureLauncher = async (cacheDir: string): Promise<boolean> => {
  const source = assetPath('native', 'mongo', `${LAUNCHER}.java`)
  const target = classFile(cacheDir)
  const digest = createHash('sha256').update(readFileSync(source)).digest('hex')
  const stamp = join(classesDir(cacheDir), `${LAUNCHER}.sha256`)
  if (existsSync(target) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === digest) return false
  const lib = libDir(cacheDir, 'mongo')
  if (!hasJars(lib)) throw new UserError('the mongo-java-server jars are not installed', 'run: mm infra install')
  // Compile beside, then swap in: a server starting meanwhile never loads half-written classes.
  const building = mkdtempSync(join(dirname(classesDir(cacheDir)), 'classes-'))
  try {
    await promisify(execFile)('javac', ['-nowarn', '-cp', `${lib}/*`, '-d', building, source], {timeout: 120_000})
    writeFileSync(join(building, `${LAUNCHER}.sha256`), digest + '\n')
    rmSync(classesDir(cacheDir), {recursive: true, force: true})
    try {
      renameSync(building, classesDir(cacheDir))
    } catch (error) {
      // Another mm compiled the same source at the same moment: theirs is as good as ours.
      if (!(existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === digest)) throw error
      rmSync(building, {recursive: true, force: true})
    }
  } catch (error) {
    rmSync(building, {recursive: true, force: true})
    throw new ExternalError(
      'javac MmMongoServer.java',
      String((error as {stderr?: string}).stderr ?? error),
      'install a JDK (apt: openjdk-17-jdk-headless), then mm infra install',
    )
  }
  return true
}
