#!/usr/bin/env node
// Entry point of the `syncline-server` binary: wires runCli to the real process.
import { runCli } from './runCli'

const signals = ['SIGINT', 'SIGTERM'] as const

runCli({
  argv: process.argv.slice(2),
  env: process.env,
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
  onSignal(handler) {
    for (const signal of signals) process.on(signal, handler)
    return () => {
      for (const signal of signals) process.off(signal, handler)
    }
  },
}).then(
  (code) => {
    // A second signal means "stop now"; otherwise let the event loop drain on its own.
    if (code === 1) process.exit(code)
    process.exitCode = code
  },
  (error: unknown) => {
    console.error(error)
    process.exit(1)
  },
)
