// The runner contract belongs to the components (services/shared/runner.ts); the CLI composes them.
export * from '../../services/shared/runner.js'
