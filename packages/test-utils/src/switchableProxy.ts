// A TCP proxy on 127.0.0.1 that a test switches off and on like a network link: `cut()` drops
// every connection (no close frame: each end sees 1006) and refuses new ones until `restore()`,
// so a client stays offline — retrying — for as long as the test wants, then reconnects on its
// own. Unlike a black hole, a cut link fails fast: a client's attempt ends at once instead of
// hanging until its handshake timeout. When the target is down (a server restart), the client's
// connection is closed as soon as the proxy's own connect fails, for the same reason.
import { connect, createServer, type Socket } from 'node:net'

/** A running switchable proxy. */
export interface SwitchableProxy {
  /** Port to connect to instead of the target's. */
  readonly port: number
  /** False between `cut()` and `restore()`. */
  readonly online: boolean
  /** Client connections currently open through the proxy. */
  readonly openConnections: number
  /** Connections accepted (and forwarded) so far. */
  readonly accepted: number
  /** Destroys every open connection (both ends see an abrupt drop); new ones are accepted. */
  drop(): void
  /** `drop()`, then refuses every new connection until {@link restore}. */
  cut(): void
  /** Accepts connections again. */
  restore(): void
  /** Destroys all connections and stops listening. */
  close(): Promise<void>
}

/** Starts a switchable proxy on 127.0.0.1 (random port) forwarding to `127.0.0.1:targetPort`. */
export async function createSwitchableProxy(targetPort: number): Promise<SwitchableProxy> {
  let online = true
  let accepted = 0
  const pairs = new Set<{ client: Socket; target: Socket }>()
  const server = createServer((client) => {
    client.on('error', () => {})
    if (!online) {
      client.destroy()
      return
    }
    accepted += 1
    const target = connect({ host: '127.0.0.1', port: targetPort })
    target.on('error', () => {})
    const pair = { client, target }
    pairs.add(pair)
    // Either end going away (including a failed connect to the target) ends the other one.
    const end = () => {
      pairs.delete(pair)
      client.destroy()
      target.destroy()
    }
    client.once('close', end)
    target.once('close', end)
    client.pipe(target)
    target.pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('proxy has no port')
  const drop = () => {
    for (const { client, target } of [...pairs]) {
      client.destroy()
      target.destroy()
    }
    pairs.clear()
  }
  return {
    port: address.port,
    get online() {
      return online
    },
    get openConnections() {
      return pairs.size
    },
    get accepted() {
      return accepted
    },
    drop,
    cut() {
      online = false
      drop()
    },
    restore() {
      online = true
    },
    async close() {
      online = false
      drop()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
