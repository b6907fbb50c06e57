import {createWriteStream} from 'node:fs'

import type {Fields, Logger, LogLevel} from '../../services/shared/logger.js'

// The interface is the components' (services/shared/logger.ts); this is mm's implementation.
export type {Fields, Logger, LogLevel} from '../../services/shared/logger.js'

const ORDER: Record<LogLevel, number> = {debug: 10, info: 20, warn: 30, error: 40}

export interface LogRecord {
  time: string
  level: LogLevel
  scope: string
  event: string
  fields: Fields
}

export type LogSink = (record: LogRecord) => void

export const createLogger = (sink: LogSink, level: LogLevel = 'info', scope = 'mm'): Logger => {
  const min = ORDER[level]
  const emit = (lvl: LogLevel, event: string, fields: Fields = {}) => {
    if (ORDER[lvl] < min) return
    sink({time: new Date().toISOString(), level: lvl, scope, event, fields})
  }
  return {
    debug: (e, f) => emit('debug', e, f),
    info: (e, f) => emit('info', e, f),
    warn: (e, f) => emit('warn', e, f),
    error: (e, f) => emit('error', e, f),
    child: (child) => createLogger(sink, level, child),
  }
}

const renderValue = (v: unknown): string => {
  if (v instanceof Error) return JSON.stringify(v.message)
  if (typeof v === 'string') return /[\s"=]/.test(v) ? JSON.stringify(v) : v
  return JSON.stringify(v)
}

/** `12:00:01 order     | outbox.published count=3` */
export const formatRecord = (r: LogRecord, width = 9): string => {
  const fields = Object.entries(r.fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${renderValue(v)}`)
    .join(' ')
  const lvl = r.level === 'info' ? '' : `${r.level.toUpperCase()} `
  return `${r.time.slice(11, 19)} ${r.scope.padEnd(width)} | ${lvl}${r.event}${fields ? ` ${fields}` : ''}`
}

export const stderrSink: LogSink = (r) => {
  process.stderr.write(formatRecord(r) + '\n')
}

/** Plain lines appended to one file; used by the detached supervisor so `mm logs` can merge. */
export const fileSink = (path: string): LogSink => {
  const stream = createWriteStream(path, {flags: 'a'})
  return (r) => {
    stream.write(formatRecord(r) + '\n')
  }
}

export const silentLogger: Logger = createLogger(() => {}, 'error')
