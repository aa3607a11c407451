// The body of the `syncline-server` command, with the process (output, signals) passed in, so
// a test can run it in-process and send it a "signal" without killing the test runner.
import { CliUsageError, parseCliArgs, usage } from './cliOptions'
import { createServer } from './createServer'

/** The parts of the process the CLI uses. */
export interface CliProcess {
  argv: readonly string[]
  env: Readonly<Record<string, string | undefined>>
  stdout: (line: string) => void
  stderr: (line: string) => void
  /** Registers a handler for SIGINT/SIGTERM; returns a function that unregisters it. */
  onSignal: (handler: (signal: string) => void) => () => void
}

/**
 * Runs the CLI: prints help, or starts a server and keeps it running until the first SIGINT or
 * SIGTERM, then closes it gracefully. A second signal during shutdown gives up waiting.
 * Resolves with the process exit code.
 */
export async function runCli(process: CliProcess): Promise<number> {
  let command: ReturnType<typeof parseCliArgs>
  try {
    command = parseCliArgs(process.argv, process.env)
  } catch (error) {
    if (!(error instanceof CliUsageError)) throw error
    process.stderr(`syncline-server: ${error.message}\n\n${usage}`)
    return 2
  }
  if (command.kind === 'help') {
    process.stdout(usage)
    return 0
  }
  let server: ReturnType<typeof createServer>
  try {
    server = createServer(command.options)
    await server.listen()
  } catch (error) {
    process.stderr(`syncline-server: ${error instanceof Error ? error.message : String(error)}`)
    return 1
  }
  const host = command.options.host ?? '0.0.0.0'
  process.stdout(`syncline-server listening on ws://${host}:${server.port}/`)
  return new Promise<number>((resolve) => {
    let stopping = false
    const off = process.onSignal((signal) => {
      if (stopping) {
        process.stderr(`syncline-server: ${signal} again, exiting without waiting`)
        off()
        resolve(1)
        return
      }
      stopping = true
      process.stdout(`syncline-server: ${signal} received, closing connections`)
      server.close().then(
        () => {
          off()
          process.stdout('syncline-server: closed')
          resolve(0)
        },
        (error: unknown) => {
          off()
          process.stderr(`syncline-server: error while closing: ${String(error)}`)
          resolve(1)
        },
      )
    })
  })
}
