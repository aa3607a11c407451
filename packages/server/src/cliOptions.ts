// Turns the command line and environment of `syncline-server` into server options. A pure
// function, so every flag and variable is testable without starting a process.
import { defaults } from './defaults'
import type { ServerOptions } from './options'

/** Usage text printed by `--help` and after a bad argument. */
export const usage = `Usage: syncline-server [options]

Starts a Syncline server (WebSocket at /, health at /healthz).

Options:
  -p, --port <port>      Port to listen on (0 = any free port)   [env SYNCLINE_PORT, PORT; default ${defaults.port}]
  -H, --host <host>      Interface to bind                        [env SYNCLINE_HOST; default ${defaults.host}]
  -o, --origin <origin>  Allow browser connections from this origin; repeat for several
                         (default: any origin)                    [env SYNCLINE_ORIGINS, comma-separated]
  -h, --help             Show this help

SIGINT or SIGTERM closes every connection gracefully (1001) and exits.`

/** What the command line asks for. */
export type CliCommand = { kind: 'help' } | { kind: 'serve'; options: ServerOptions }

/** A bad argument or variable; the CLI prints the message and the usage and exits with 2. */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError'
}

function parsePort(value: string, source: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65_535) {
    throw new CliUsageError(`${source} must be a port number from 0 to 65535, got "${value}"`)
  }
  return Number(value)
}

function splitOrigins(value: string): string[] {
  return value
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin !== '')
}

/**
 * Parses `argv` (without node and script) and `env`. Flags win over SYNCLINE_* variables, which
 * win over PORT (set by most hosting platforms). `--origin` may repeat; when given it replaces
 * SYNCLINE_ORIGINS rather than adding to it.
 */
export function parseCliArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): CliCommand {
  let port: number | undefined
  let host: string | undefined
  const origins: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1
    const name = eq === -1 ? arg : arg.slice(0, eq)
    const takeValue = (): string => {
      if (eq !== -1) return arg.slice(eq + 1)
      const value = argv[++i]
      if (value === undefined || value.startsWith('-')) {
        throw new CliUsageError(`${name} needs a value`)
      }
      return value
    }
    switch (name) {
      case '-h':
      case '--help':
        return { kind: 'help' }
      case '-p':
      case '--port':
        port = parsePort(takeValue(), name)
        break
      case '-H':
      case '--host':
        host = takeValue()
        if (host === '') throw new CliUsageError(`${name} must not be empty`)
        break
      case '-o':
      case '--origin':
        origins.push(...splitOrigins(takeValue()))
        break
      default:
        throw new CliUsageError(`unknown argument "${arg}"`)
    }
  }
  if (port === undefined) {
    if (env.SYNCLINE_PORT) port = parsePort(env.SYNCLINE_PORT, 'SYNCLINE_PORT')
    else if (env.PORT) port = parsePort(env.PORT, 'PORT')
  }
  host ??= env.SYNCLINE_HOST || undefined
  const allowedOrigins = origins.length > 0 ? origins : splitOrigins(env.SYNCLINE_ORIGINS ?? '')
  const options: ServerOptions = {}
  if (port !== undefined) options.port = port
  if (host !== undefined) options.host = host
  if (allowedOrigins.length > 0) options.allowedOrigins = allowedOrigins
  return { kind: 'serve', options }
}
