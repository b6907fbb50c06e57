import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {ExitCode, UsageError} from '../lib/errors.js'
import {connect, CONNECT_SERVERS, type ConnectResult, type ConnectServer} from '../operations/connect.js'
import {terminal} from '../ui/terminal.js'
import {connectNotes, renderConnect} from '../ui/text/connect.js'

export default class Connect extends BaseCommand<typeof Connect> {
  static override summary = "Open a server's usual client (psql, redis-cli, mongosh, kcat, rabbitmqadmin) pointed at the platform, or print the command"
  static override description =
    'On a terminal it runs the client with your terminal; without one (pipe, CI) it prints the command instead, unless --exec. When the client is not installed it prints the command and how to install it, and exits 1. Passwords in the printed command are *** unless --reveal. Arguments after -- go to the client.'
  static override examples = [
    '<%= config.bin %> connect postgres',
    '<%= config.bin %> connect postgres --exec -- -c \'select count(*) from "order".orders\'',
    '<%= config.bin %> connect kafka -- -C -t order.created -e',
    '<%= config.bin %> connect rabbitmq --reveal',
  ]
  static override strict = false
  static override args = {server: Args.string({required: true, options: [...CONNECT_SERVERS], description: 'the server to connect to'})}
  static override flags = {
    exec: Flags.boolean({env: 'MM_CONNECT_EXEC', description: 'run the client even without a terminal (not with --json)'}),
    reveal: Flags.boolean({env: 'MM_REVEAL', description: 'print passwords instead of ***'}),
  }

  public async run(): Promise<ConnectResult> {
    const {argv} = await this.parse(Connect)
    const extra = (argv as string[]).slice(1)
    // `mm connect postgres redis` would hand "redis" to psql: client arguments come after --.
    if (extra.length > 0 && !this.argv.includes('--'))
      throw new UsageError(
        `mm connect takes one server, got ${(argv as string[]).join(' ')}`,
        `arguments for the client go after --, e.g. mm connect ${this.args.server} -- ${extra.join(' ')}`,
      )
    const run = !this.jsonEnabled() && (this.flags.exec || terminal().interactive)
    const result = await connect({
      config: this.mm,
      logger: this.logger,
      server: this.args.server as ConnectServer,
      extra,
      reveal: this.flags.reveal,
      run,
    })
    if (!result.executed) {
      this.present(result, renderConnect)
      if (!this.jsonEnabled()) for (const note of connectNotes(result, run)) process.stderr.write(note + '\n')
    }
    if (result.exitCode !== undefined) this.exitWith(result.exitCode)
    else if (!result.installed && result.server !== 'rabbitmq') this.exitWith(ExitCode.failure)
    return result
  }
}
