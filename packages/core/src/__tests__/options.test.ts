import { createFakeServer } from '@syncline/test-utils'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createClient } from '../client'
import { createEnvironment } from '../environment'
import { SynclineError } from '../errors'
import type { ClientOptions } from '../options'

const server = createFakeServer()
const base = (): ClientOptions => ({
  url: 'ws://syncline.test',
  WebSocket: server.WebSocket,
  environment: createEnvironment(),
  autoConnect: false,
})

function thrown(fn: () => unknown): SynclineError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(SynclineError)
    return error as SynclineError
  }
  throw new Error('expected a SynclineError')
}

describe('createClient options', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['url', { url: 42 }, /"url".*ws:\/\/ or wss:\/\/ URL string, or a function/],
    ['url', { url: '' }, /"url"/],
    ['url', { url: 'ftp://example.com' }, /"url".*"ftp:\/\/example.com"/],
    ['url', { url: 'not a url' }, /"url"/],
    ['auth', { auth: 'token' }, /"auth".*function returning a token/],
    ['WebSocket', { WebSocket: {} }, /"WebSocket".*WebSocket constructor.*`ws`/],
    ['backoff', { backoff: 5 }, /"backoff".*an object/],
    [
      'backoff.initialDelayMs',
      { backoff: { initialDelayMs: -1 } },
      /"backoff.initialDelayMs".*>= 0, got -1/,
    ],
    ['backoff.initialDelayMs', { backoff: { initialDelayMs: Number.NaN } }, /got NaN/],
    [
      'backoff.maxDelayMs',
      { backoff: { initialDelayMs: 500, maxDelayMs: 100 } },
      /"backoff.maxDelayMs".*>= backoff.initialDelayMs \(500\)/,
    ],
    ['backoff.multiplier', { backoff: { multiplier: 0.5 } }, /"backoff.multiplier".*>= 1/],
    ['backoff.random', { backoff: { random: 0.3 } }, /"backoff.random".*function/],
    ['lostConnectionTimeout', { lostConnectionTimeout: -5 }, /"lostConnectionTimeout"/],
    [
      'offlineQueue.maxMessages',
      { offlineQueue: { maxMessages: 1.5 } },
      /"offlineQueue.maxMessages".*integer/,
    ],
    [
      'offlineQueue.maxBytes',
      { offlineQueue: { maxBytes: '1MB' } },
      /"offlineQueue.maxBytes".*got "1MB"/,
    ],
    ['heartbeat.graceMs', { heartbeat: { graceMs: -1 } }, /"heartbeat.graceMs"/],
    [
      'heartbeat.probeTimeoutMs',
      { heartbeat: { probeTimeoutMs: 0 } },
      /"heartbeat.probeTimeoutMs".*> 0/,
    ],
    ['handshakeTimeoutMs', { handshakeTimeoutMs: 0 }, /"handshakeTimeoutMs".*> 0/],
    [
      'environment.online',
      { environment: { online: {} } },
      /"environment.online".*createEnvironment/,
    ],
    ['autoConnect', { autoConnect: 'yes' }, /"autoConnect".*true or false/],
    ['presenceThrottleMs', { presenceThrottleMs: -1 }, /"presenceThrottleMs"/],
    ['now', { now: 123 }, /"now".*function/],
  ]

  it.each(cases)(
    'rejects an invalid %s, naming it and the accepted values',
    (_, patch, message) => {
      const error = thrown(() => createClient({ ...base(), ...patch } as ClientOptions))
      expect(error.code).toBe('invalid_option')
      expect(error.message).toMatch(message)
    },
  )

  it('accepts a URL function without calling it at creation', () => {
    const url = vi.fn(() => 'ws://a')
    const client = createClient({ ...base(), url })
    expect(url).not.toHaveBeenCalled()
    client.destroy()
  })

  describe('without any WebSocket', () => {
    const original = globalThis.WebSocket
    afterEach(() => {
      globalThis.WebSocket = original
    })

    it('says to pass the WebSocket option (ws in Node)', () => {
      // Node 22 has a global WebSocket; take it away to model Node 20.
      ;(globalThis as { WebSocket?: unknown }).WebSocket = undefined
      const { WebSocket: _, ...options } = base()
      const error = thrown(() => createClient(options))
      expect(error.code).toBe('no_websocket')
      expect(error.message).toMatch(/`WebSocket` option/)
      expect(error.message).toMatch(/`ws`/)
    })
  })
})

describe('client.join options', () => {
  const client = createClient(base())

  const cases: [string, unknown, unknown, RegExp][] = [
    ['an empty name', '', undefined, /non-empty string of at most 256/],
    ['a 257-character name', 'x'.repeat(257), undefined, /at most 256/],
    ['a non-string name', 42, undefined, /got 42/],
    ['array presence', 'r', { presence: [1] }, /"presence".*plain JSON object/],
    ['class-instance presence', 'r', { presence: new Date() }, /"presence".*plain JSON object/],
    ['non-JSON presence', 'r', { presence: { big: 1n } }, /presence must be JSON-serializable/],
    ['a non-boolean doc', 'r', { doc: 'yes' }, /"doc".*true or false/],
    ['a negative presence throttle', 'r', { presenceThrottleMs: -1 }, /"presenceThrottleMs"/],
  ]

  it.each(cases)('rejects %s', (_, name, options, message) => {
    const error = thrown(() => client.join(name as string, options as never))
    expect(error.message).toMatch(message)
  })

  it('accepts a 256-character name and a plain presence object', () => {
    const room = client.join('x'.repeat(256), { presence: { name: 'Ada', cursor: null } })
    expect(room.status.get()).toBe('joining')
  })
})
