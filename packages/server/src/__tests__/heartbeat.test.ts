import { CloseCode } from '@syncline/protocol'
import { createTcpProxy, type TcpProxy } from '@syncline/test-utils'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { heartbeatAction, sweepIntervalMs } from '../heartbeat'
import type { SynclineServer } from '../index'
import { type Client, connect, join, startServer } from './harness'

describe('heartbeatAction', () => {
  const timing = { pingIntervalMs: 10_000, timeoutMs: 30_000, sweepMs: 3_000 }

  it('pings when due (up to half a sweep early), times out when silent too long', () => {
    expect(heartbeatAction({ lastSeen: 0, lastPingAt: 0 }, 8_000, timing)).toBe('none')
    expect(heartbeatAction({ lastSeen: 0, lastPingAt: 0 }, 8_500, timing)).toBe('ping')
    expect(heartbeatAction({ lastSeen: 0, lastPingAt: 27_000 }, 29_999, timing)).toBe('none')
    expect(heartbeatAction({ lastSeen: 0, lastPingAt: 27_000 }, 30_000, timing)).toBe('timeout')
    expect(heartbeatAction({ lastSeen: 29_000, lastPingAt: 29_000 }, 30_000, timing)).toBe('none')
  })

  it('sweeps at most every ping interval and at least every tenth of the timeout', () => {
    expect(sweepIntervalMs(10_000, 30_000)).toBe(3_000)
    expect(sweepIntervalMs(1_000, 30_000)).toBe(1_000)
    expect(sweepIntervalMs(1, 2)).toBe(1)
  })
})

describe('server heartbeat (fake timers)', () => {
  let server: SynclineServer | undefined
  let proxy: TcpProxy | undefined
  const clients: Client[] = []

  afterEach(async () => {
    for (const c of clients.splice(0)) c.socket.ws.terminate()
    await proxy?.close()
    proxy = undefined
    const closing = server?.close()
    // Shutdown waits for a close grace on timers that are fake here.
    await vi.advanceTimersByTimeAsync(2_000)
    await closing
    server = undefined
    vi.useRealTimers()
  })

  function useFakeClock() {
    // Only timers and Date: sockets, microtasks and setImmediate stay real.
    vi.useFakeTimers({
      toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'],
    })
  }

  it('pings every pingIntervalMs and keeps a connection that answers', async () => {
    useFakeClock()
    server = await startServer({ presenceTimeoutMs: 3_000, pingIntervalMs: 1_000 })
    const a = await connect(server)
    clients.push(a)
    expect(a.welcome.pingIntervalMs).toBe(1_000)
    const ids: number[] = []
    for (let round = 0; round < 5; round++) {
      vi.advanceTimersByTime(1_000)
      const ping = await a.next('ping')
      ids.push(ping.id)
      a.send({ type: 'pong', id: ping.id })
      // Wait until the server has read the pong before moving the clock on.
      a.send({ type: 'ping', id: 100 + round })
      expect(await a.next()).toEqual({ type: 'pong', id: 100 + round })
    }
    expect(new Set(ids).size).toBe(5)
    // 5 s elapsed, longer than the timeout: the pongs kept it alive.
    a.send({ type: 'ping', id: 1 })
    expect(await a.next()).toEqual({ type: 'pong', id: 1 })
    expect(server.stats().connections).toBe(1)
  })

  it('any inbound frame refreshes liveness, not only pongs', async () => {
    useFakeClock()
    server = await startServer({ presenceTimeoutMs: 3_000, pingIntervalMs: 1_000 })
    const a = await connect(server)
    clients.push(a)
    await join(a, 1, 'r')
    for (let i = 0; i < 6; i++) {
      vi.advanceTimersByTime(1_000)
      a.send({ type: 'broadcast', handle: 1, event: 'typing', payload: i })
      await a.next('ping')
    }
    a.send({ type: 'ping', id: 2 })
    expect(await a.next()).toEqual({ type: 'pong', id: 2 })
  })

  it('closes a silent connection with 4408 after presenceTimeoutMs, not before', async () => {
    useFakeClock()
    server = await startServer({ presenceTimeoutMs: 3_000, pingIntervalMs: 1_000 })
    const a = await connect(server)
    clients.push(a)
    vi.advanceTimersByTime(2_700)
    // Still open: the round trip below also refreshes liveness.
    a.send({ type: 'ping', id: 3 })
    expect(await a.next()).toEqual({ type: 'pong', id: 3 })
    vi.advanceTimersByTime(3_300)
    expect(await a.closed).toEqual({
      code: CloseCode.Timeout,
      reason: 'no frame within presenceTimeoutMs',
    })
  })

  it('terminates a blackholed peer that never answers the close frame', async () => {
    useFakeClock()
    server = await startServer({ presenceTimeoutMs: 3_000, pingIntervalMs: 1_000 })
    proxy = await createTcpProxy(server.port)
    const a = await connect(server, { port: proxy.port })
    clients.push(a)
    await join(a, 1, 'r')
    const [link] = proxy.connections
    proxy.blackhole()
    vi.advanceTimersByTime(3_300)
    expect(server.stats()).toMatchObject({ connections: 1, rooms: 0 })
    // The close frame went into the hole; after the close grace the server drops the TCP link.
    vi.advanceTimersByTime(1_000)
    await link?.targetClosed
    expect(server.stats()).toMatchObject({ connections: 0, rooms: 0 })
  })
})
