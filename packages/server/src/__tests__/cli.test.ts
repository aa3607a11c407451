import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { serviceAvailable } from '@syncline/test-utils'
import { describe, expect, it } from 'vitest'
import { CliUsageError, parseCliArgs, usage } from '../cliOptions'
import { runCli } from '../runCli'

describe('parseCliArgs', () => {
  it('reads flags, both spellings, and repeated origins', () => {
    expect(
      parseCliArgs(
        ['--port', '4000', '--host=127.0.0.1', '-o', 'http://a.test', '--origin=http://b.test'],
        {},
      ),
    ).toEqual({
      kind: 'serve',
      options: {
        port: 4000,
        host: '127.0.0.1',
        allowedOrigins: ['http://a.test', 'http://b.test'],
      },
    })
    expect(parseCliArgs([], {})).toEqual({ kind: 'serve', options: {} })
    expect(parseCliArgs(['-p', '0'], {})).toEqual({ kind: 'serve', options: { port: 0 } })
  })

  it('reads the environment; flags win, SYNCLINE_PORT wins over PORT', () => {
    const env = {
      PORT: '8080',
      SYNCLINE_HOST: '::1',
      SYNCLINE_ORIGINS: 'http://a.test, http://b.test,',
    }
    expect(parseCliArgs([], env)).toEqual({
      kind: 'serve',
      options: { port: 8080, host: '::1', allowedOrigins: ['http://a.test', 'http://b.test'] },
    })
    expect(parseCliArgs([], { ...env, SYNCLINE_PORT: '9000' })).toMatchObject({
      options: { port: 9000 },
    })
    expect(parseCliArgs(['--port', '1', '--origin', 'http://c.test'], env)).toMatchObject({
      options: { port: 1, allowedOrigins: ['http://c.test'] },
    })
  })

  it('returns help for --help and -h', () => {
    expect(parseCliArgs(['--port', '1', '--help'], {})).toEqual({ kind: 'help' })
    expect(parseCliArgs(['-h'], {})).toEqual({ kind: 'help' })
  })

  it.each([
    [['--port'], '--port needs a value'],
    [['--port', 'http'], '--port must be a port number from 0 to 65535, got "http"'],
    [['--port', '70000'], 'got "70000"'],
    [['--verbose'], 'unknown argument "--verbose"'],
    [['--host='], '--host must not be empty'],
  ])('refuses %j', (argv, message) => {
    expect(() => parseCliArgs(argv, {})).toThrow(CliUsageError)
    expect(() => parseCliArgs(argv, {})).toThrow(message)
  })

  it('refuses a bad PORT variable, naming it', () => {
    expect(() => parseCliArgs([], { PORT: 'abc' })).toThrow('PORT must be a port number')
  })
})

function fakeProcess(argv: string[], env: Record<string, string> = {}) {
  const out: string[] = []
  const err: string[] = []
  let signal: ((name: string) => void) | undefined
  let listening: ((line: string) => void) | undefined
  const started = new Promise<string>((resolve) => {
    listening = resolve
  })
  return {
    out,
    err,
    started,
    send: (name: string) => signal?.(name),
    get hasSignalHandler() {
      return signal !== undefined
    },
    process: {
      argv,
      env,
      stdout: (line: string) => {
        out.push(line)
        if (line.includes('listening on')) listening?.(line)
      },
      stderr: (line: string) => err.push(line),
      onSignal: (handler: (name: string) => void) => {
        signal = handler
        return () => {
          signal = undefined
        }
      },
    },
  }
}

describe('runCli', () => {
  it('prints usage for --help and exits 0', async () => {
    const fake = fakeProcess(['--help'])
    expect(await runCli(fake.process)).toBe(0)
    expect(fake.out).toEqual([usage])
  })

  it('prints the problem and usage for a bad argument and exits 2', async () => {
    const fake = fakeProcess(['--nope'])
    expect(await runCli(fake.process)).toBe(2)
    expect(fake.err[0]).toMatch(/^syncline-server: unknown argument "--nope"\n\nUsage:/)
  })

  it('serves /healthz until SIGTERM, then closes gracefully and exits 0', async () => {
    const fake = fakeProcess(['--host', '127.0.0.1'], { SYNCLINE_PORT: '0' })
    const exit = runCli(fake.process)
    const line = await fake.started
    const port = Number(/:(\d+)\/$/.exec(line)?.[1])
    const health = await fetch(`http://127.0.0.1:${port}/healthz`)
    expect(await health.json()).toEqual({ status: 'ok', connections: 0, rooms: 0 })
    fake.send('SIGTERM')
    expect(await exit).toBe(0)
    expect(fake.hasSignalHandler).toBe(false)
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow()
  })
})

const builtCli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url))
// In CI (SYNCLINE_REQUIRE_SERVICES=1) a missing build fails instead of skipping.
const built = serviceAvailable(
  'The built CLI',
  existsSync(builtCli),
  `run pnpm build → ${builtCli}`,
)

describe.skipIf(!built)('syncline-server binary', () => {
  it('starts, answers /healthz and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [builtCli, '--port', '0', '--host', '127.0.0.1'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let text = ''
        child.stdout.on('data', (chunk: Buffer) => {
          text += chunk.toString()
          const match = /listening on ws:\/\/127\.0\.0\.1:\d+\//.exec(text)
          if (match) resolve(match[0])
        })
        child.once('exit', (code) => reject(new Error(`exited early with ${code}`)))
      })
      const port = Number(/:(\d+)\/$/.exec(line)?.[1])
      const health = await fetch(`http://127.0.0.1:${port}/healthz`)
      expect(health.status).toBe(200)
      child.kill('SIGTERM')
      expect(await exited).toBe(0)
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
    }
  })
})
