// A socket the client gives up on while it is still connecting (destroy() during the upgrade, or
// the handshake timeout on a server that never answers) must close quietly. With `ws`, closing a
// CONNECTING socket emits an `error` event; once the client had detached its handlers that event
// had no listener and became an uncaught exception that would take a Node process down (found by
// the convergence test destroying clients mid-reconnect).
import { createServer, type Server, type Socket } from 'node:net'
import { withTimeout } from '@syncline/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { createLive } from './setup'

const live = createLive()
afterEach(() => live.cleanup())

/** A TCP server that accepts connections and never answers the HTTP upgrade. */
async function silentServer(): Promise<{ port: number; accepted: Promise<void> }> {
  const sockets = new Set<Socket>()
  let onAccept!: () => void
  const accepted = new Promise<void>((resolve) => {
    onAccept = resolve
  })
  const server: Server = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    onAccept()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  live.defer(async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return { port: address.port, accepted }
}

/**
 * A plain `ws` class that records its sockets' closes without adding an `error` listener (a
 * listener would hide the bug: only an `error` event nobody listens to throws).
 */
function closeRecordingWebSocket() {
  const closed: Promise<number>[] = []
  class Recording extends WebSocket {
    constructor(url: string) {
      super(url)
      closed.push(new Promise((resolve) => this.once('close', (code) => resolve(code))))
    }
  }
  return { WebSocket: Recording, closed }
}

/** Lets pending nextTick/immediate callbacks (where `ws` emits the abort) run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

describe('closing a socket that is still connecting', () => {
  it('destroy() during the upgrade closes the socket without an uncaught error', async () => {
    const silent = await silentServer()
    const sockets = closeRecordingWebSocket()
    const client = live.client(silent.port, { WebSocket: sockets.WebSocket })
    await silent.accepted
    expect(client.status.get()).toBe('connecting')
    client.destroy()
    expect(await withTimeout(sockets.closed[0] as Promise<number>, 5_000, 'the close')).toBe(1006)
    await settle()
    expect(client.status.get()).toBe('closed')
  })

  it('the handshake timeout on a silent server closes the attempt quietly and retries', async () => {
    const silent = await silentServer()
    const sockets = closeRecordingWebSocket()
    const client = live.client(silent.port, {
      WebSocket: sockets.WebSocket,
      handshakeTimeoutMs: 100,
    })
    await silent.accepted
    const first = sockets.closed[0]
    if (first === undefined) throw new Error('no socket was opened')
    expect(await withTimeout(first, 5_000, 'the abandoned attempt to close')).toBe(1006)
    await settle()
    expect(['connecting', 'reconnecting']).toContain(client.status.get())
  })
})
