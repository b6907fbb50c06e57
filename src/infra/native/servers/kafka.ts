import {execFile} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {promisify} from 'node:util'

import {ExternalError, UserError} from '../../../lib/errors.js'
import {assetPath} from '../../../lib/package-root.js'
import type {NativeContext, NativeServer} from '../server.js'
import {hasJars, jarVersion, javaBinary, javaRequirement, libDir} from './java.js'

/** JVM flags measured to start the broker fastest on a small machine. */
const JVM = ['-Xms256m', '-Xmx768m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Djava.awt.headless=true']

/** The Apache Kafka 3.9 broker from its Maven Central jars, one KRaft node (broker + controller). */
export const kafka: NativeServer = {
  name: 'kafka',
  ports: [
    {name: 'main', standard: 9092},
    {name: 'controller', standard: 9093},
  ],
  processMatch: 'kafka.Kafka',
  requirements: (cacheDir) => [
    javaRequirement(),
    {what: 'Apache Kafka 3.9 jars', ok: hasJars(libDir(cacheDir, 'kafka')), fix: 'mm infra install (Maven: org.apache.kafka:kafka_2.13:3.9)'},
  ],
  version: (cacheDir) => jarVersion(libDir(cacheDir, 'kafka'), /^kafka_2\.13-(\d+\.\d+\.\d+)\.jar$/),
  prepare: async (ctx) => {
    const logs = join(ctx.dir, 'logs')
    mkdirSync(logs, {recursive: true})
    const props = join(ctx.dir, 'server.properties')
    writeFileSync(props, serverProperties(ctx, logs))
    const idFile = join(ctx.dir, 'cluster.id')
    if (!existsSync(idFile)) writeFileSync(idFile, randomBytes(16).toString('base64url'))
    if (existsSync(join(logs, 'meta.properties'))) return
    const clusterId = readFileSync(idFile, 'utf8').trim()
    try {
      await promisify(execFile)(
        requireJava(),
        [...classpath(ctx), 'kafka.tools.StorageTool', 'format', '-c', props, `--cluster-id=${clusterId}`, '--ignore-formatted'],
        {
          timeout: 120_000,
        },
      )
    } catch (error) {
      throw new ExternalError('kafka storage format', String((error as {stderr?: string}).stderr ?? error))
    }
  },
  spawn: (ctx) => ({
    file: requireJava(),
    args: [
      ...JVM,
      `-Dlog4j.configuration=file:${assetPath('native', 'kafka', 'log4j.properties')}`,
      `-Dkafka.logs.dir=${join(ctx.dir, 'app-logs')}`,
      ...classpath(ctx),
      'kafka.Kafka',
      join(ctx.dir, 'server.properties'),
    ],
  }),
  url: (ctx) => `127.0.0.1:${ctx.ports.main}`,
}

const classpath = (ctx: NativeContext): string[] => {
  const lib = libDir(ctx.cacheDir, 'kafka')
  if (!hasJars(lib)) throw new UserError('the Kafka broker jars are not installed', 'run: mm infra install')
  return ['-cp', `${lib}/*`]
}

const requireJava = (): string => {
  const java = javaBinary()
  if (!java) throw new UserError('Java is not installed (Kafka and the Mongo-compatible server need it)', 'run: mm infra install')
  return java
}

const serverProperties = (ctx: NativeContext, logs: string): string =>
  [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${ctx.ports.controller}`,
    `listeners=PLAINTEXT://127.0.0.1:${ctx.ports.main},CONTROLLER://127.0.0.1:${ctx.ports.controller}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${ctx.ports.main}`,
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    `log.dirs=${logs}`,
    'num.partitions=1',
    'default.replication.factor=1',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    'auto.create.topics.enable=false',
    'num.network.threads=2',
    'num.io.threads=2',
    'log.retention.hours=168',
    ...(ctx.persistent ? [] : ['log.flush.interval.messages=9223372036854775807']),
    '',
  ].join('\n')
