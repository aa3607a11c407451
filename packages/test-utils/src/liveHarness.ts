// Real servers and real clients for integration tests, with one teardown that releases them
// all and checks that the server let go of everything. The factories are passed in (test-utils
// depends on neither the client nor the server package), so any package's tests can use it:
//
//   const live = createLiveHarness({
//     createServer: (options) => createServer({ host: '127.0.0.1', port: 0, ...options }),
//     createClient: (options) => createClient({ WebSocket, ...options }),
//   })
//   afterEach(() => live.cleanup())

/** What the harness needs from a server. */
export interface LiveServer {
  listen(): Promise<void>
  close(): Promise<void>
  readonly port: number
  /** Resource counts (an object of numbers); after `close()` every one must be 0. */
  stats?(): object
}

/** What the harness needs from a client. */
export interface LiveClient {
  destroy(): void
}

/** Factories and defaults of a {@link LiveHarness}. */
export interface LiveHarnessOptions<SO, S extends LiveServer, CO, C extends LiveClient> {
  createServer: (options: SO) => S
  /** `url` is the target's `ws://127.0.0.1:<port>/`; `options` may override it. */
  createClient: (options: CO, url: string) => C
}

/** A set of servers, clients and other resources that one `cleanup()` releases. */
export interface LiveHarness<SO, S extends LiveServer, CO, C extends LiveClient> {
  /** Creates a server and waits until it listens (on 127.0.0.1 if the factory says so). */
  startServer(options: SO): Promise<S>
  /** `ws://127.0.0.1:<port>/` of a server or a port. */
  url(target: S | number): string
  /**
   * Creates a client for `server` (or a port, e.g. a proxy's) and tracks it. The factory
   * decides whether a `url` in `options` replaces the target's.
   */
  client(target: S | number, options: CO): C
  /** Runs `dispose` during cleanup (before servers close), in reverse order of registration. */
  defer(dispose: () => void | Promise<void>): void
  /**
   * Destroys every client, runs deferred disposers, closes every server and then checks that
   * each server's `stats()` is all zeros. Throws (after releasing everything) if not.
   */
  cleanup(): Promise<void>
}

/** Creates a {@link LiveHarness}. */
export function createLiveHarness<SO, S extends LiveServer, CO, C extends LiveClient>(
  options: LiveHarnessOptions<SO, S, CO, C>,
): LiveHarness<SO, S, CO, C> {
  let servers: S[] = []
  let clients: C[] = []
  let disposers: (() => void | Promise<void>)[] = []
  const portOf = (target: S | number) => (typeof target === 'number' ? target : target.port)
  const url = (target: S | number) => `ws://127.0.0.1:${portOf(target)}/`
  return {
    async startServer(serverOptions) {
      const server = options.createServer(serverOptions)
      servers.push(server)
      await server.listen()
      return server
    },
    url,
    client(target, clientOptions) {
      const client = options.createClient(clientOptions, url(target))
      clients.push(client)
      return client
    },
    defer(dispose) {
      disposers.push(dispose)
    },
    async cleanup() {
      const errors: unknown[] = []
      for (const client of clients.splice(0)) {
        try {
          client.destroy()
        } catch (error) {
          errors.push(error)
        }
      }
      for (const dispose of disposers.splice(0).reverse()) {
        try {
          await dispose()
        } catch (error) {
          errors.push(error)
        }
      }
      const closing = servers.splice(0)
      await Promise.all(
        closing.map((server) =>
          server.close().catch((error: unknown) => {
            errors.push(error)
          }),
        ),
      )
      for (const server of closing) {
        const stats = server.stats?.()
        if (stats === undefined) continue
        const leaked = Object.entries(stats).filter(([, count]) => count !== 0)
        // Every count must be a number and zero: connections, rooms, timers, …
        if (leaked.length > 0) {
          errors.push(new Error(`server leaked after close(): ${JSON.stringify(stats)}`))
        }
      }
      servers = []
      clients = []
      disposers = []
      if (errors.length === 1) throw errors[0]
      if (errors.length > 1) throw new AggregateError(errors, 'cleanup failed')
    },
  }
}
