/**
 * The logger the components are given (the CLI implements it: src/lib/logger.ts). Events are
 * short dotted names, fields structured; never secrets.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
export type Fields = Record<string, unknown>

export interface Logger {
  debug(event: string, fields?: Fields): void
  info(event: string, fields?: Fields): void
  warn(event: string, fields?: Fields): void
  error(event: string, fields?: Fields): void
  child(scope: string): Logger
}
