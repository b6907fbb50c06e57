/** Exit codes, PLATFORM.md §5. */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  preflight: 3,
  readinessTimeout: 4,
  thresholds: 5,
  interrupted: 130,
} as const
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

/** Base of every error mm knows how to present: a message, an optional hint and an exit code. */
export class MmError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
    readonly exitCode: ExitCode = ExitCode.failure,
    readonly code = 'failure',
  ) {
    super(message)
    this.name = new.target.name
  }
}

/** Something the user can fix: bad input, a missing prerequisite, a wrong flag. */
export class UserError extends MmError {
  constructor(message: string, hint?: string, exitCode: ExitCode = ExitCode.failure) {
    super(message, hint, exitCode, exitCode === ExitCode.usage ? 'usage' : 'user_error')
  }
}

export class UsageError extends MmError {
  constructor(message: string, hint?: string) {
    super(message, hint, ExitCode.usage, 'usage')
  }
}

export class PreflightError extends MmError {
  constructor(message: string, hint?: string) {
    super(message, hint, ExitCode.preflight, 'preflight')
  }
}

export class ReadinessTimeoutError extends MmError {
  constructor(message: string, hint?: string) {
    super(message, hint, ExitCode.readinessTimeout, 'readiness_timeout')
  }
}

export class InterruptedError extends MmError {
  constructor(message = 'interrupted') {
    super(message, undefined, ExitCode.interrupted, 'interrupted')
  }
}

/** A child process (apt, mvn, docker, a server) failed. */
export class ExternalError extends MmError {
  constructor(
    readonly command: string,
    readonly stderr: string,
    hint?: string,
    exitCode: ExitCode = ExitCode.failure,
  ) {
    super(`${command} failed${stderr ? `:\n${indent(tail(stderr, 20))}` : ''}`, hint, exitCode, 'external')
  }
}

export const tail = (text: string, lines: number): string => text.trimEnd().split('\n').slice(-lines).join('\n')
export const indent = (text: string, pad = '  '): string =>
  text
    .split('\n')
    .map((l) => pad + l)
    .join('\n')

export const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err))

/** The hint of every "cannot reach" error: most often the platform is simply not up. */
export const NOT_UP_HINT = 'is the platform up? check mm status, start it with mm up -d'

/**
 * A server or the platform API did not answer: `cannot reach <what>: <why>` with the hint above,
 * the original error as its `cause`. An MmError (already presentable) passes through as it is.
 */
export const unreachable = (what: string, error: unknown): MmError => {
  if (error instanceof MmError) return error
  const wrapped = new UserError(`cannot reach ${what}: ${errorMessage(error)}`, NOT_UP_HINT)
  wrapped.cause = error
  return wrapped
}
