import { decodeFrame, encodeFrame } from '@syncline/protocol'
import { describe, expect, it, vi } from 'vitest'
import { bearerToken, hasUpgradeCredentials, runAuthenticate } from '../auth'
import { decodeBusMessage, encodeBusMessage } from '../busMessage'
import { truncateCloseReason } from '../closeReason'
import { OutboxFlusher } from '../outbox'
import { PresenceTicker } from '../presenceTicker'
import { createTokenBucket, takeTokens } from '../rateLimiter'
import { RecentConnections } from '../recentConnections'
import { addressedFrame } from '../roomFrame'
import { SerialQueue } from '../serialQueue'
import { TimerSet } from '../timers'
import { originAllowed, requestPath } from '../upgrade'

describe('token bucket', () => {
  it('allows a burst, then the sustained rate', () => {
    const bucket = createTokenBucket(100, 300, 0)
    for (let i = 0; i < 300; i++) expect(takeTokens(bucket, 1, 0)).toBe(true)
    expect(takeTokens(bucket, 1, 0)).toBe(false)
    expect(takeTokens(bucket, 1, 9)).toBe(false) // 0.9 tokens refilled
    expect(takeTokens(bucket, 1, 10)).toBe(true)
    expect(takeTokens(bucket, 100, 1_010)).toBe(true)
    expect(takeTokens(bucket, 1, 1_010)).toBe(false)
    expect(takeTokens(bucket, 300, 1_000_000)).toBe(true) // capped at burst
    expect(takeTokens(bucket, 1, 1_000_000)).toBe(false)
  })
})

describe('SerialQueue', () => {
  it('keeps order across async handlers and survives a throwing handler', async () => {
    const log: string[] = []
    const errors: unknown[] = []
    let release: (() => void) | undefined
    const queue = new SerialQueue<string>(
      (item) => {
        if (item === 'boom') throw new Error('boom')
        if (item === 'slow') {
          return new Promise<void>((resolve) => {
            release = () => {
              log.push('slow')
              resolve()
            }
          })
        }
        log.push(item)
      },
      (error) => errors.push(error),
    )
    queue.push('a')
    queue.push('slow')
    queue.push('boom')
    queue.push('b')
    expect(log).toEqual(['a'])
    expect(queue.size).toBe(2)
    release?.()
    await new Promise((resolve) => setImmediate(resolve))
    expect(log).toEqual(['a', 'slow', 'b'])
    expect(errors).toHaveLength(1)
    queue.dispose()
    queue.push('c')
    expect(log).toEqual(['a', 'slow', 'b'])
  })
})

describe('truncateCloseReason', () => {
  it('keeps at most 123 bytes without splitting a character', () => {
    expect(truncateCloseReason('short')).toBe('short')
    expect(Buffer.byteLength(truncateCloseReason('a'.repeat(500)))).toBe(123)
    expect(truncateCloseReason('🎉'.repeat(40))).toBe('🎉'.repeat(30))
  })
})

describe('RecentConnections', () => {
  it('forgets the oldest beyond its size and entries older than the window', () => {
    const recent = new RecentConnections(2, 1_000)
    recent.remember('t1', 'c1', 'u1', 0)
    recent.remember('t2', 'c2', 'u2', 0)
    recent.remember('t1', 'c1', 'u1', 10) // refreshed: t2 is now the oldest
    recent.remember('t3', 'c3', 'u3', 20)
    expect(recent.lookup('t2', 20)).toBeUndefined()
    expect(recent.lookup('t1', 20)).toMatchObject({ userId: 'u1', connectionId: 'c1' })
    expect(recent.lookup('t3', 1_021)).toBeUndefined()
    expect(recent.lookup(undefined, 0)).toBeUndefined()
  })

  it('forgets a token once it was used', () => {
    const recent = new RecentConnections(10, 1_000)
    recent.remember('t1', 'c1', 'u1', 0)
    recent.forget('t1')
    expect(recent.lookup('t1', 1)).toBeUndefined()
  })
})

describe('addressedFrame', () => {
  it('re-addresses one encoding to any handle', () => {
    const frame = {
      type: 'event' as const,
      handle: 0,
      event: 'e',
      payload: { big: 'x'.repeat(300) },
      userId: 'u',
      connectionId: 'c',
    }
    const addressed = addressedFrame(frame)
    for (const handle of [1, 127, 128, 70_000, 0xffffffff]) {
      expect(decodeFrame(addressed(handle))).toEqual({ ...frame, handle })
      // Bytes equal to a fresh encoding (as a Buffer view, which ws sends without wrapping).
      expect(new Uint8Array(addressed(handle))).toEqual(encodeFrame({ ...frame, handle }))
    }
    expect(addressed(5)).toBe(addressed(5))
  })
})

describe('bus envelope', () => {
  it('round-trips and rejects other versions and garbage', () => {
    const message = { kind: 'event' as const, origin: 'srv', frame: new Uint8Array([1, 2, 3]) }
    expect(decodeBusMessage(encodeBusMessage(message))).toEqual(message)
    expect(decodeBusMessage(new Uint8Array([2, 0, 0]))).toBeUndefined()
    expect(decodeBusMessage(new Uint8Array([1, 0, 200]))).toBeUndefined()
    expect(decodeBusMessage(new Uint8Array([]))).toBeUndefined()
  })
})

describe('auth helpers', () => {
  it('reads bearer tokens and detects credentials', () => {
    expect(bearerToken({ authorization: 'Bearer abc.def' })).toBe('abc.def')
    expect(bearerToken({ authorization: 'bearer   xyz ' })).toBe('xyz')
    expect(bearerToken({ authorization: 'Basic abc' })).toBeUndefined()
    expect(bearerToken({})).toBeUndefined()
    expect(hasUpgradeCredentials({ cookie: 'a=b' })).toBe(true)
    expect(hasUpgradeCredentials({ authorization: 'Basic x' })).toBe(false)
  })

  it('classifies authenticate results', async () => {
    const request = { headers: {}, phase: 'upgrade' as const }
    expect(await runAuthenticate(() => null, request)).toEqual({ kind: 'deferred' })
    expect(await runAuthenticate(() => null, { ...request, phase: 'hello' })).toEqual({
      kind: 'refused',
      reason: 'authentication failed',
    })
    expect(
      await runAuthenticate(() => {
        throw 'plain string'
      }, request),
    ).toEqual({ kind: 'refused', reason: 'plain string' })
    expect(await runAuthenticate(async () => ({ userId: 'u' }), request)).toEqual({
      kind: 'accepted',
      user: { userId: 'u' },
    })
  })
})

describe('upgrade helpers', () => {
  it('matches origins exactly after normalisation', () => {
    const allowed = new Set(['http://localhost:5173'])
    expect(originAllowed(undefined, allowed)).toBe(true)
    expect(originAllowed('http://evil.test', undefined)).toBe(true)
    expect(originAllowed('http://localhost:5173', allowed)).toBe(true)
    expect(originAllowed('http://localhost:5174', allowed)).toBe(false)
    expect(originAllowed('http://localhost:5173.evil.test', allowed)).toBe(false)
    expect(originAllowed('not a url', allowed)).toBe(false)
  })

  it('strips the query string from the path', () => {
    expect(requestPath('/?a=1')).toBe('/')
    expect(requestPath('/healthz?x')).toBe('/healthz')
    expect(requestPath('//evil')).toBe('//evil')
    expect(requestPath(undefined)).toBe('/')
  })
})

describe('TimerSet', () => {
  it('counts live timers and clears them all', () => {
    const timers = new TimerSet()
    let fired = 0
    timers.timeout(() => fired++, 60_000)
    const interval = timers.interval(() => fired++, 60_000)
    expect(timers.size).toBe(2)
    timers.clear(interval)
    expect(timers.size).toBe(1)
    timers.clearAll()
    expect(timers.size).toBe(0)
    expect(fired).toBe(0)
  })
})

describe('OutboxFlusher', () => {
  const turn = () => new Promise<void>((resolve) => setImmediate(resolve))

  it('flushes every scheduled owner once, at the end of the turn', async () => {
    const flusher = new OutboxFlusher((error) => {
      throw error
    })
    const flushed: string[] = []
    const a = { flushOutbox: () => flushed.push('a') }
    const b = { flushOutbox: () => flushed.push('b') }
    flusher.schedule(a)
    flusher.schedule(b)
    expect(flusher.pending).toBe(true)
    expect(flushed).toEqual([])
    await turn()
    expect(flushed).toEqual(['a', 'b'])
    expect(flusher.pending).toBe(false)
  })

  it('reports a throwing owner and still flushes the others', async () => {
    const errors: unknown[] = []
    const flusher = new OutboxFlusher((error) => errors.push(error))
    let flushed = false
    flusher.schedule({
      flushOutbox: () => {
        throw new Error('boom')
      },
    })
    flusher.schedule({ flushOutbox: () => (flushed = true) })
    await turn()
    expect(flushed).toBe(true)
    expect(errors).toHaveLength(1)
  })

  it('cancel() of the only owner and stop() leave no pending flush', async () => {
    const flusher = new OutboxFlusher(() => {})
    let flushes = 0
    const owner = { flushOutbox: () => flushes++ }
    flusher.schedule(owner)
    flusher.cancel(owner)
    expect(flusher.pending).toBe(false)
    flusher.schedule(owner)
    flusher.stop()
    expect(flusher.pending).toBe(false)
    flusher.schedule(owner) // ignored after stop()
    expect(flusher.pending).toBe(false)
    await turn()
    expect(flushes).toBe(0)
  })
})

describe('PresenceTicker', () => {
  it('runs an overdue tick on catchUp, never an early one', () => {
    vi.useFakeTimers()
    try {
      let clock = 1_000
      const timers = new TimerSet()
      const ticker = new PresenceTicker(timers, 33, () => clock)
      const flushed: number[] = []
      const source = { flushPresence: () => void flushed.push(clock) }
      ticker.schedule(source)
      clock += 32
      ticker.catchUp() // not due yet
      expect(flushed).toEqual([])
      // The event loop is behind: the clock passed the due time but the timer has not fired.
      clock += 30
      ticker.catchUp()
      expect(flushed).toEqual([1_062])
      expect(timers.size).toBe(0)
      ticker.catchUp() // nothing pending
      expect(flushed).toHaveLength(1)
    } finally {
      vi.useRealTimers()
    }
  })
})
