import {Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {type EnvResult, platformEnv} from '../operations/env.js'
import {renderEnv} from '../ui/text/env.js'

export default class Env extends BaseCommand<typeof Env> {
  static override summary = "The running platform's connection settings as export lines (passwords masked unless --reveal)"
  static override description =
    'Prints MM_POSTGRES_URL, MM_REDIS_URL, MM_RABBITMQ_URL, MM_RABBITMQ_MANAGEMENT_URL, MM_KAFKA_BROKERS, MM_MONGODB_URL, MM_API_URL and the usual DATABASE_URL, REDIS_URL, AMQP_URL, KAFKA_BROKERS, MONGODB_URL, shell-quoted, for eval or a .env file. Passwords are shown as *** unless --reveal (mm refuses such masked URLs).'
  static override examples = [
    'eval "$(<%= config.bin %> env --reveal)"',
    '<%= config.bin %> env --reveal > .env',
    '<%= config.bin %> env --json --reveal | jq -r .variables.DATABASE_URL',
  ]
  static override flags = {
    reveal: Flags.boolean({env: 'MM_REVEAL', description: 'print passwords instead of ***'}),
  }

  public async run(): Promise<EnvResult> {
    const result = await platformEnv({config: this.mm, logger: this.logger, reveal: this.flags.reveal})
    if (result.masked && !this.jsonEnabled())
      process.stderr.write('# passwords are masked (***) and will not authenticate: pass --reveal to print them, e.g. eval "$(mm env --reveal)"\n')
    return this.present(result, renderEnv)
  }
}
