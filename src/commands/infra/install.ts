import {BaseCommand} from '../../base-command.js'
import {infraInstall, type InstallResult} from '../../operations/infra-install.js'
import {renderInstall} from '../../ui/text/platform.js'

export default class InfraInstall extends BaseCommand<typeof InfraInstall> {
  static override summary = 'Provision what native mode needs (Debian/Ubuntu): apt packages, Maven jars, the Mongo launcher'
  static override description = 'Idempotent: every step already done is skipped. Jars go to the cache (MM_CACHE_DIR, default ~/.cache/mm).'
  static override examples = ['<%= config.bin %> infra install']

  public async run(): Promise<InstallResult> {
    const result = await infraInstall({cacheDir: this.mm.cacheDir, progress: (line) => this.logger.info('install', {step: line})})
    return this.present(result, renderInstall)
  }
}
