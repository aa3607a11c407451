// A TCP proxy on 127.0.0.1 that can turn into a black hole: bytes stop flowing both ways but no
// FIN or RST is sent, which is what a sleeping laptop or a dead NAT looks like to a server.
import { connect, createServer, type Socket } from 'node:net'

/** One client connection through the proxy. */
export interface ProxiedConnection {
  /** Resolves when the proxy's socket to the target closed (the target hung up). */
  readonly targetClosed: Promise<void>
  /** Resolves when the client side closed. */
  readonly clientClosed: Promise<void>
  /** Drops (true) or forwards again (false) every byte of this connection, both ways. */
  blackhole(on?: boolean): void
  /**
   * Drops this connection abruptly: both TCP sockets are destroyed, so each peer sees the
   * connection end without a WebSocket close frame (1006), like a crashed network stack.
   */
  drop(): void
}

/** A running proxy. */
export interface TcpProxy {
  /** Port to connect to instead of the target's. */
  readonly port: number
  /** Connections accepted so far, in order. */
  readonly connections: readonly ProxiedConnection[]
  /** Drops (true) or forwards again (false) every byte, both ways, on every connection. */
  blackhole(on?: boolean): void
  /** Destroys all connections and stops listening. */
  close(): Promise<void>
}

/** Starts a proxy on 127.0.0.1 (random port) forwarding to `127.0.0.1:targetPort`. */
export async function createTcpProxy(targetPort: number): Promise<TcpProxy> {
  let blackholed = false
  const sockets = new Set<Socket>()
  const connections: ProxiedConnection[] = []
  const closedPromise = (socket: Socket) =>
    new Promise<void>((resolve) => socket.once('close', () => resolve()))
  const server = createServer((client) => {
    let holed = false
    const dropped = () => blackholed || holed
    const target = connect({ host: '127.0.0.1', port: targetPort })
    for (const socket of [client, target]) {
      sockets.add(socket)
      socket.on('error', () => {})
      socket.once('close', () => sockets.delete(socket))
    }
    client.on('data', (chunk) => {
      if (!dropped()) target.write(chunk)
    })
    target.on('data', (chunk) => {
      if (!dropped()) client.write(chunk)
    })
    // Half-closes pass through unless blackholed; a hole swallows FINs as well.
    client.on('end', () => {
      if (!dropped()) target.end()
    })
    target.on('end', () => {
      if (!dropped()) client.end()
    })
    connections.push({
      targetClosed: closedPromise(target),
      clientClosed: closedPromise(client),
      blackhole(on = true) {
        holed = on
      },
      drop() {
        client.destroy()
        target.destroy()
      },
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('proxy has no port')
  return {
    port: address.port,
    connections,
    blackhole(on = true) {
      blackholed = on
    },
    async close() {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
