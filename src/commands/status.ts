import {Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {ExitCode} from '../lib/errors.js'
import {sleep} from '../lib/proc.js'
import {collectStatus, type PlatformStatus} from '../operations/status.js'
import {renderStatus} from '../ui/text/platform.js'
import {terminal} from '../ui/terminal.js'

export default class Status extends BaseCommand<typeof Status> {
  static override summary = 'Health of every server and runner; exit 1 when anything is unhealthy'
  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status --json | jq .servers', '<%= config.bin %> status --watch']
  static override flags = {
    watch: Flags.boolean({char: 'w', env: 'MM_WATCH', description: 'refresh every 2 seconds until Ctrl-C'}),
  }

  public async run(): Promise<PlatformStatus> {
    let status = await collectStatus(this.mm, this.logger)
    if (this.flags.watch && !this.jsonEnabled()) {
      const clear = terminal().interactive ? '\u001B[2J\u001B[H' : ''
      while (!this.signal.aborted) {
        process.stdout.write(`${clear}${renderStatus(status)}\n${clear ? '' : '\n'}`)
        await sleep(2000, this.signal)
        if (!this.signal.aborted) status = await collectStatus(this.mm, this.logger)
      }
    } else this.present(status, renderStatus)
    if (!status.healthy) this.exitWith(ExitCode.failure)
    return status
  }
}
