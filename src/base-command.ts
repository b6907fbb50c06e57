import {setMaxListeners} from 'node:events'

import {Command, Flags, Interfaces} from '@oclif/core'

import {type Config, type ConfigKey, ENV, loadConfig} from './config/index.js'
import {ExitCode, MmError, UsageError} from './lib/errors.js'
import {createLogger, type Logger, stderrSink} from './lib/logger.js'
import {onInterrupt} from './ui/progress.js'
import {style} from './ui/terminal.js'

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>
export type BaseArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

/** Flags every command takes, each with its MM_* twin. */
const baseFlags = {
  help: Flags.help({char: 'h', helpGroup: 'GLOBAL', description: 'show this help'}),
  'data-dir': Flags.string({env: ENV.dataDir, helpGroup: 'GLOBAL', description: 'state, logs and data of the platform', default: undefined}),
  'log-level': Flags.string({env: ENV.logLevel, helpGroup: 'GLOBAL', options: ['debug', 'info', 'warn', 'error']}),
}

/**
 * The one base command: --json, shared flags, config loaded once, and one error presenter that
 * maps typed errors to the exit codes of PLATFORM.md §5.
 */
export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true
  static override baseFlags = baseFlags

  protected flags!: BaseFlags<T>
  protected args!: BaseArgs<T>
  protected mm!: Config
  protected logger!: Logger

  private controller?: AbortController
  private offInterrupt?: () => void
  private outcome?: number

  /**
   * The run's one abort signal (HANDBOOK 9): SIGINT and SIGTERM abort it, and every operation the
   * command starts takes it. Created on first use; the handlers go when the command ends.
   */
  protected get signal(): AbortSignal {
    if (!this.controller) {
      const controller = (this.controller = new AbortController())
      // Every wait of the run listens to it (a load keeps hundreds in flight): not a leak.
      setMaxListeners(0, controller.signal)
      this.offInterrupt = onInterrupt(() => controller.abort())
    }
    return this.controller.signal
  }

  /** The exit code of a run that returns its result but did not fully succeed (PLATFORM.md §5). */
  protected exitWith(code: ExitCode | number): void {
    this.outcome = code
  }

  /** Interrupted (the signal aborted) unless a more telling code was set. */
  protected exitIfInterrupted(): void {
    if (this.controller?.signal.aborted) this.outcome = ExitCode.interrupted
  }

  public override async finally(err: Error | undefined): Promise<unknown> {
    this.offInterrupt?.()
    if (!err && this.outcome !== undefined) process.exitCode = this.outcome
    return super.finally(err)
  }

  /** Flags of this command that feed config keys (flag name → config key). */
  protected configFlags(): Partial<Record<ConfigKey, string | number | undefined>> {
    return {}
  }

  public override async init(): Promise<void> {
    await super.init()
    const {args, flags} = await this.parse({
      args: this.ctor.args,
      baseFlags: (this.ctor as typeof BaseCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      flags: this.ctor.flags,
      strict: this.ctor.strict,
    })
    this.flags = flags as BaseFlags<T>
    this.args = args as BaseArgs<T>
    this.mm = loadConfig({
      flags: {dataDir: this.flags['data-dir'], logLevel: this.flags['log-level'], ...this.configFlags()},
    })
    this.logger = createLogger(stderrSink, this.mm.logLevel)
  }

  /** Writes a human-readable result to stdout unless --json is on (then oclif prints the returned value). */
  protected present<R>(result: R, render: (r: R) => string): R {
    if (!this.jsonEnabled()) {
      const text = render(result)
      if (text) process.stdout.write(text.endsWith('\n') ? text : text + '\n')
    }
    return result
  }

  protected override async catch(err: Error & {exitCode?: number; oclif?: {exit?: number}; parse?: unknown}): Promise<unknown> {
    const exitCode = presentError(err, this.jsonEnabled?.() ?? false, this.mm?.logLevel === 'debug')
    process.exitCode = exitCode
    return undefined
  }
}

const usageMessage = (message: string): string => {
  const text = message.replace(/\nSee more help with --help$/, '')
  const parsing = /^Parsing (--\S+)\s*\n\t/.exec(text)
  if (!parsing) return text
  const why = text.slice(parsing[0].length)
  return why.includes(parsing[1]!) ? why : `${parsing[1]}: ${why}`
}

/** Presents any error once: a message and a hint on stderr (or a JSON error on stdout under --json). */
export const presentError = (err: Error & {oclif?: {exit?: number}; parse?: unknown}, json: boolean, debug = false): number => {
  let error: MmError
  if (err instanceof MmError) error = err
  else if ((err as {code?: string}).code === 'EEXIT' && err.oclif?.exit !== undefined) return err.oclif.exit
  else if (err.parse !== undefined || err.name === 'CLIParseError' || (err.oclif?.exit === 2 && err.message) || /^Parsing --/.test(err.message))
    // A flag's parser failing reads "Parsing --flag \n\t<why>": keep the why, naming the flag
    // when the why does not (oclif's own integer checks do not; src/flags.ts's parsers do).
    error = new UsageError(usageMessage(err.message), 'see --help')
  else error = new MmError(err.message || String(err), 'this is a bug in mm; run with --log-level debug and report it')

  if (json) {
    process.stdout.write(JSON.stringify({error: {code: error.code, message: error.message, hint: error.hint}}) + '\n')
  } else {
    process.stderr.write(`${style.red('✖')} ${error.message}\n`)
    if (error.hint) process.stderr.write(`  ${style.dim('→')} ${error.hint}\n`)
    if (debug && !(err instanceof MmError)) process.stderr.write(`${err.stack}\n`)
  }
  return error.exitCode ?? ExitCode.failure
}
