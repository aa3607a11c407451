import { CloseCode } from '@syncline/protocol'
import { createTcpProxy, openTestSocket } from '@syncline/test-utils'
import { describe, expect, it } from 'vitest'
import { createServer } from '../index'
import { connect, join, recordingLogger, startServer } from './harness'

const idle = {
  connections: 0,
  rooms: 0,
  timers: 0,
  departures: 0,
  pendingUpgrades: 0,
  documents: 0,
}

describe('close()', () => {
  it('closes every socket with 1001, leaves nothing behind, and is idempotent', async () => {
    const server = await startServer()
    const a = await connect(server)
    const b = await connect(server)
    await join(a, 1, 'r1')
    await join(b, 1, 'r2')
    const helloPending = await connect(server, { hello: false })
    expect(server.stats()).toMatchObject({ connections: 3, rooms: 2, departures: 0 })
    const first = server.close()
    const second = server.close()
    expect(second).toBe(first)
    const shuttingDown = { code: CloseCode.GoingAway, reason: 'server shutting down' }
    expect(await a.closed).toEqual(shuttingDown)
    expect(await b.closed).toEqual(shuttingDown)
    expect(await helloPending.closed).toEqual(shuttingDown)
    await first
    expect(server.stats()).toEqual(idle)
    await server.close()
  })

  it('frees the port: a new server can listen on the same port right away', async () => {
    const first = await startServer()
    const port = first.port
    const a = await connect(first)
    await first.close()
    await a.closed
    const second = createServer({ host: '127.0.0.1', port, logger: recordingLogger() })
    await second.listen()
    expect(second.port).toBe(port)
    const b = await connect(second)
    expect(b.welcome.type).toBe('welcome')
    await b.close()
    await second.close()
  })

  it('terminates a peer that never answers the close handshake', async () => {
    const server = await startServer()
    const proxy = await createTcpProxy(server.port)
    const a = await connect(server, { port: proxy.port })
    proxy.blackhole()
    await server.close()
    await proxy.connections[0]?.targetClosed
    expect(server.stats()).toEqual(idle)
    a.socket.ws.terminate()
    await proxy.close()
  })

  it('refuses an upgrade whose authenticate finishes after close() began', async () => {
    let release: (() => void) | undefined
    let entered: (() => void) | undefined
    const inside = new Promise<void>((resolve) => {
      entered = resolve
    })
    const server = await startServer({
      authenticate: () =>
        new Promise((resolve) => {
          release = () => resolve({ userId: 'late' })
          entered?.()
        }),
    })
    const opening = openTestSocket(`ws://127.0.0.1:${server.port}/`, {
      headers: { authorization: 'Bearer t' },
    }).catch((error: unknown) => error)
    await inside
    expect(server.stats().pendingUpgrades).toBe(1)
    const closing = server.close()
    release?.()
    // No WebSocket opened: the upgrade socket was destroyed by close() (or answered 503).
    expect(await opening).toBeInstanceOf(Error)
    await closing
    expect(server.stats()).toEqual(idle)
  })

  it('can be called before listen(), and listen() after close() rejects', async () => {
    const server = createServer({ port: 0, logger: recordingLogger() })
    await server.close()
    await expect(server.listen()).rejects.toThrow('listen(): the server is already closed')
  })

  it('listen() rejects when the port is taken and the server can still be closed', async () => {
    const first = await startServer()
    const second = createServer({ host: '127.0.0.1', port: first.port, logger: recordingLogger() })
    await expect(second.listen()).rejects.toThrow(/EADDRINUSE/)
    await second.close()
    await first.close()
  })
})
