import { describe, expect, it } from 'vitest'
import { createServer, defaults } from '../index'
import { resolveOptions } from '../options'

describe('resolveOptions', () => {
  it('applies the documented defaults', () => {
    const resolved = resolveOptions({})
    expect(resolved).toMatchObject({
      port: 4321,
      host: '0.0.0.0',
      presenceTimeoutMs: 30_000,
      pingIntervalMs: 10_000,
      helloTimeoutMs: 10_000,
      maxPayloadBytes: 1_048_576,
      rateLimit: { framesPerSecond: 100, burst: 300 },
      presenceGraceMs: defaults.presenceGraceMs,
      presenceTickMs: defaults.presenceTickMs,
      maxPresenceBytes: defaults.maxPresenceBytes,
    })
    expect(resolved.allowedOrigins).toBeUndefined()
    expect(resolveOptions({ presenceTimeoutMs: 9_000 }).pingIntervalMs).toBe(3_000)
  })

  it('normalises allowed origins to the form browsers send', () => {
    const { allowedOrigins } = resolveOptions({
      allowedOrigins: ['HTTP://LocalHost:5173/', 'https://app.example.com:443'],
    })
    expect([...(allowedOrigins ?? [])]).toEqual([
      'http://localhost:5173',
      'https://app.example.com',
    ])
  })

  it.each([
    [{ maxPayloadBytes: -1 }, 'createServer: "maxPayloadBytes" must be a positive integer, got -1'],
    [{ maxPayloadBytes: 1.5 }, '"maxPayloadBytes" must be a positive integer, got 1.5'],
    [{ port: 70_000 }, '"port" must be an integer from 0 to 65535, got 70000'],
    [{ port: '80' }, '"port" must be an integer from 0 to 65535, got "80"'],
    [{ host: '' }, '"host" must be a non-empty string'],
    [{ presenceTimeoutMs: 0 }, '"presenceTimeoutMs" must be a positive integer, got 0'],
    [
      { presenceTimeoutMs: 1_000, pingIntervalMs: 1_000 },
      '"pingIntervalMs" must be a positive integer below presenceTimeoutMs (1000), got 1000',
    ],
    [{ helloTimeoutMs: Number.NaN }, '"helloTimeoutMs" must be a positive integer, got NaN'],
    [{ rateLimit: { burst: 0 } }, '"rateLimit.burst" must be a positive integer, got 0'],
    [
      { rateLimit: { framesPerSecond: -5 } },
      '"rateLimit.framesPerSecond" must be a positive number, got -5',
    ],
    [{ rateLimit: 10 }, '"rateLimit" must be an object { framesPerSecond?, burst? }, got 10'],
    [{ allowedOrigins: 'http://a.test' }, '"allowedOrigins" must be an array of origins'],
    [{ allowedOrigins: ['*'] }, '"allowedOrigins" must be an array of origins'],
    [{ authenticate: 'yes' }, '"authenticate" must be a function, got "yes"'],
    [{ bus: {} }, '"bus" must be an object with publish, subscribe and close methods'],
    [{ logger: { warn: () => {} } }, '"logger" must be an object with warn and error methods'],
    [{ maxPresenceBytes: 0 }, '"maxPresenceBytes" must be a positive integer, got 0'],
    [{ allowedOrigin: ['http://a.test'] }, 'unknown option "allowedOrigin"; known options are'],
  ])('refuses %j', (options, message) => {
    expect(() => createServer(options as never)).toThrow(message)
  })
})
