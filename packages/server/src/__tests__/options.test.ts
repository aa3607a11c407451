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
    expect(resolved.store).toBeUndefined()
    expect(resolved.documentUnloadDelayMs).toBe(10_000)
    expect(resolved.persistence).toEqual({
      debounceMs: 500,
      maxWaitMs: 5_000,
      compactAfterUpdates: 200,
      compactAfterBytes: 1_048_576,
      retryDelayMs: 1_000,
      maxRetryDelayMs: 30_000,
    })
    // A debounce above the default max wait moves the max wait up with it.
    expect(resolveOptions({ persistence: { debounceMs: 8_000 } }).persistence.maxWaitMs).toBe(8_000)
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
    [{ store: { load: () => null } }, '"store" must be a DocumentStore (load, append, compact'],
    [{ persistence: 5 }, '"persistence" must be an object { debounceMs?'],
    [
      { persistence: { debounceMs: 0 } },
      '"persistence.debounceMs" must be a positive integer, got 0',
    ],
    [
      { persistence: { debounceMs: 100, maxWaitMs: 50 } },
      '"persistence.maxWaitMs" must be a positive integer at least persistence.debounceMs (100), got 50',
    ],
    [
      { persistence: { compactAfterUpdates: 1.5 } },
      '"persistence.compactAfterUpdates" must be a positive integer, got 1.5',
    ],
    [
      { persistence: { compactAfterBytes: -1 } },
      '"persistence.compactAfterBytes" must be a positive integer, got -1',
    ],
    [{ persistence: { debounce: 5 } }, 'unknown option "persistence.debounce"'],
    [
      { documentUnloadDelayMs: -1 },
      '"documentUnloadDelayMs" must be a non-negative integer, got -1',
    ],
  ])('refuses %j', (options, message) => {
    expect(() => createServer(options as never)).toThrow(message)
  })
})
