/** Quotes a value for POSIX shells: bare when it is only safe characters, else in single quotes. */
export const shellQuote = (value: string): string => (/^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`)

/** A command line as one pasteable string: `VAR=value program arg…`, each part quoted. */
export const shellCommand = (argv: readonly string[], env: Readonly<Record<string, string>> = {}): string =>
  [...Object.entries(env).map(([k, v]) => `${k}=${shellQuote(v)}`), ...argv.map(shellQuote)].join(' ')
