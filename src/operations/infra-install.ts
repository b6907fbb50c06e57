import {copyFileSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {execa} from 'execa'

import {ExternalError, UserError} from '../lib/errors.js'
import {assetPath} from '../lib/package-root.js'
import {ensureLauncher} from '../infra/native/servers/mongo.js'
import {hasJars, jarVersion, libDir} from '../infra/native/servers/java.js'
import {postgres} from '../infra/native/servers/postgres.js'
import {which} from '../infra/native/system.js'

export interface InstallStep {
  step: string
  action: 'present' | 'installed'
  detail: string
}

export interface InstallResult {
  platform: string
  steps: InstallStep[]
}

interface AptPackage {
  step: string
  package: string
  present: () => boolean
}

/** What native mode needs from apt, and how to tell it is already there. */
const APT: AptPackage[] = [
  {step: 'postgresql', package: 'postgresql', present: () => postgres.requirements('').every((r) => r.ok)},
  {step: 'redis', package: 'redis-server', present: () => which('redis-server') !== undefined},
  {step: 'rabbitmq', package: 'rabbitmq-server', present: () => existsSync('/usr/lib/rabbitmq/bin/rabbitmq-server')},
  {step: 'java', package: 'openjdk-17-jdk-headless', present: () => which('java') !== undefined && which('javac') !== undefined},
  {step: 'maven', package: 'maven', present: () => which('mvn') !== undefined},
]

const MAVEN: {name: 'kafka' | 'mongo'; label: string; versionPattern: RegExp}[] = [
  {name: 'kafka', label: 'Apache Kafka broker jars', versionPattern: /^kafka_2\.13-(\d+\.\d+\.\d+)\.jar$/},
  {name: 'mongo', label: 'mongo-java-server jars', versionPattern: /^mongo-java-server-(\d+\.\d+\.\d+)\.jar$/},
]

const osRelease = (): Record<string, string> => {
  try {
    return Object.fromEntries(
      readFileSync('/etc/os-release', 'utf8')
        .split('\n')
        .map((l) => /^([A-Z_]+)=(.*)$/.exec(l))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => [m[1]!, m[2]!.replace(/^"|"$/g, '')]),
    )
  } catch {
    return {}
  }
}

/**
 * Provisions native mode on Debian/Ubuntu, idempotently: apt packages, the Kafka and
 * mongo-java-server jars through Maven into the cache, and the Mongo launcher compiled there.
 */
export const infraInstall = async (opts: {cacheDir: string; progress: (line: string) => void}): Promise<InstallResult> => {
  const os = osRelease()
  const platform = os.PRETTY_NAME ?? process.platform
  const debianLike = [os.ID, ...(os.ID_LIKE ?? '').split(' ')].some((id) => id === 'debian' || id === 'ubuntu')
  if (process.platform !== 'linux' || !debianLike) {
    throw new UserError(
      `mm infra install provisions native mode on Debian and Ubuntu only; this is ${platform}`,
      'use a Docker engine (mm up --infra compose), point mm at your own servers (--infra external with MM_*_URL), or install PostgreSQL 15+, Redis 7, RabbitMQ 3.10+ and Java 17 + Maven yourself',
    )
  }
  const steps: InstallStep[] = []

  const missing = APT.filter((p) => !p.present())
  for (const p of APT.filter((x) => !missing.includes(x))) steps.push({step: p.step, action: 'present', detail: 'apt package already installed'})
  if (missing.length > 0) {
    const sudo = process.getuid?.() === 0 ? [] : which('sudo') ? ['sudo', '-n'] : undefined
    const names = missing.map((p) => p.package)
    if (!sudo) throw new UserError(`native mode needs: ${names.join(', ')}`, `run as root: apt-get install -y ${names.join(' ')}`)
    const apt = async (args: string[]) => {
      opts.progress(`apt-get ${args.join(' ')}`)
      const [file, ...pre] = [...sudo, 'apt-get']
      const result = await execa(file!, [...pre, ...args], {
        env: {DEBIAN_FRONTEND: 'noninteractive'},
        reject: false,
        all: true,
      })
      if (result.exitCode !== 0)
        throw new ExternalError(`apt-get ${args.join(' ')}`, result.all ?? '', 'check the apt sources and the network, then run mm infra install again')
    }
    await apt(['update', '-q'])
    await apt(['install', '-y', '-q', ...names])
    for (const p of missing) steps.push({step: p.step, action: 'installed', detail: `apt-get install ${p.package}`})
  }

  for (const m of MAVEN) {
    const lib = libDir(opts.cacheDir, m.name)
    if (hasJars(lib)) {
      steps.push({step: m.name, action: 'present', detail: `${m.label} ${jarVersion(lib, m.versionPattern) ?? ''} in ${lib}`.replace('  ', ' ')})
      continue
    }
    opts.progress(`fetching ${m.label} with Maven into ${lib}`)
    const work = mkdtempSync(join(tmpdir(), `mm-${m.name}-`))
    try {
      copyFileSync(assetPath('native', m.name, 'pom.xml'), join(work, 'pom.xml'))
      const staging = `${lib}.partial`
      rmSync(staging, {recursive: true, force: true})
      const result = await execa('mvn', ['-B', '-q', 'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${staging}`], {
        cwd: work,
        reject: false,
        all: true,
      })
      if (result.exitCode !== 0)
        throw new ExternalError(
          `mvn dependency:copy-dependencies (${m.label})`,
          result.all ?? '',
          'Maven Central must be reachable; run mm infra install again',
        )
      rmSync(lib, {recursive: true, force: true})
      renameSync(staging, lib)
    } finally {
      rmSync(work, {recursive: true, force: true})
    }
    steps.push({step: m.name, action: 'installed', detail: `${m.label} ${jarVersion(lib, m.versionPattern) ?? ''} in ${lib}`})
  }

  const compiled = await ensureLauncher(opts.cacheDir)
  steps.push({step: 'mongo-launcher', action: compiled ? 'installed' : 'present', detail: compiled ? 'compiled MmMongoServer' : 'MmMongoServer up to date'})
  return {platform, steps}
}
