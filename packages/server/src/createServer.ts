// The server's composition root: one HTTP server and one port for the WebSocket endpoints and
// health, one heartbeat, one room registry, one bus and one document store, with a close() that
// flushes documents and releases all of them so the process (or a test) can start another
// server on the same port at once.
import { createServer as createHttpServer } from 'node:http'
import type { Duplex } from 'node:stream'
import { CloseCode } from '@syncline/protocol'
import { WebSocketServer } from 'ws'
import { Connection } from './connection'
import { limits } from './defaults'
import { Departures } from './departures'
import { Heartbeat } from './heartbeat'
import { createRequestHandler } from './httpHandler'
import { createServerId } from './ids'
import { createMemoryStore } from './memoryStore'
import { resolveOptions, type ServerOptions } from './options'
import { OutboxFlusher } from './outbox'
import { PresenceTicker } from './presenceTicker'
import { RecentConnections } from './recentConnections'
import { RoomRegistry } from './roomRegistry'
import { TimerSet } from './timers'
import { handleUpgrade } from './upgrade'
import { YjsConnection } from './yjsConnection'

/** Resource counts, for health checks and for tests that prove nothing leaks. */
export interface ServerStats {
  /** WebSocket connections not yet fully closed (any state). */
  connections: number
  /** Rooms alive on this process. */
  rooms: number
  /**
   * Timers owned by the server (heartbeat sweep, hello, close, presence tick and grace, and the
   * end-of-turn flush of outgoing frames while one is pending).
   */
  timers: number
  /** Connections dropped without a close frame whose presence is held for a resume. */
  departures: number
  /** HTTP upgrades still being checked (e.g. awaiting `authenticate`). */
  pendingUpgrades: number
  /**
   * Room documents alive: loading, loaded (including those waiting out
   * `documentUnloadDelayMs`), or flushing their last writes after an unload.
   */
  documents: number
}

/** A Syncline server. Create with {@link createServer}. */
export interface SynclineServer {
  /** Binds the port. Resolves once connections are accepted; rejects on e.g. EADDRINUSE. */
  listen(): Promise<void>
  /** The bound port after `listen()` (useful with `port: 0`); the configured one before. */
  readonly port: number
  /**
   * Graceful shutdown: refuses new connections, closes every socket with 1001 "server
   * shutting down" (terminating those that do not answer within a second), flushes every
   * room's document to the store, closes the store if the server created it (a store passed
   * in is left open: it is the caller's, and may be shared), clears every timer, leaves the bus
   * and frees the port. Idempotent; resolves when everything is done.
   */
  close(): Promise<void>
  /** Current resource counts. */
  stats(): ServerStats
}

/**
 * Creates a Syncline server. Nothing is bound until {@link SynclineServer.listen}.
 * Throws if an option is invalid; the message names the option and the accepted values.
 *
 * @example
 * const server = createServer({ port: 4321, allowedOrigins: ['https://app.example.com'] })
 * await server.listen()
 */
export function createServer(options: ServerOptions = {}): SynclineServer {
  const resolved = resolveOptions(options)
  const { logger } = resolved
  // Without a bus passed in, no other process can receive room traffic: rooms then publish
  // nothing (no encoding, no delivery to nobody). A bus passed in is always used, even an
  // in-process one shared by several servers of this process.
  const bus = resolved.bus
  const ownsStore = resolved.store === undefined
  const store = resolved.store ?? createMemoryStore()
  const timers = new TimerSet()
  const recent = new RecentConnections()
  const now = () => Date.now()
  const ticker = new PresenceTicker(timers, resolved.presenceTickMs, now)
  const flusher = new OutboxFlusher((error) => logger.error('syncline: sending failed', error))
  const departures = new Departures(timers, resolved.presenceGraceMs)
  const rooms = new RoomRegistry({
    bus,
    serverId: createServerId(),
    logger,
    now,
    presenceTimeoutMs: resolved.presenceTimeoutMs,
    ticker,
    timers,
    store,
    persistence: resolved.persistence,
    documentUnloadDelayMs: resolved.documentUnloadDelayMs,
    documentFlushMs: resolved.documentFlushMs,
  })
  const connections = new Set<Connection | YjsConnection>()
  const live = new Map<string, Connection>()
  const upgrading = new Set<Duplex>()
  let state: 'idle' | 'listening' | 'closing' | 'closed' = 'idle'
  let closePromise: Promise<void> | undefined
  let onDrained: (() => void) | undefined

  const isClosing = () => state === 'closing' || state === 'closed'

  const heartbeat = new Heartbeat(
    timers,
    { pingIntervalMs: resolved.pingIntervalMs, timeoutMs: resolved.presenceTimeoutMs },
    function* () {
      for (const connection of connections) if (connection.state === 'open') yield connection
    },
    now,
    (at) => rooms.sweep(at),
  )

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: resolved.maxPayloadBytes,
    maxFragments: limits.maxFragments,
    clientTracking: false,
    perMessageDeflate: false,
  })

  const http = createHttpServer(
    createRequestHandler(() => ({ connections: connections.size, rooms: rooms.size }), isClosing),
  )

  http.on('upgrade', (request, socket: Duplex, head: Buffer) => {
    upgrading.add(socket)
    handleUpgrade(request, socket, head, {
      options: resolved,
      wss,
      isClosing,
      onConnection: (ws, context) => {
        const connection = new Connection(ws, context, {
          options: resolved,
          rooms,
          recent,
          departures,
          live,
          timers,
          flusher,
          now,
          onClosed: (closed) => {
            connections.delete(closed)
            if (connections.size === 0) onDrained?.()
          },
        })
        connections.add(connection)
      },
      onYjsConnection: (ws, context) => {
        const connection = new YjsConnection(ws, context, {
          options: resolved,
          rooms,
          timers,
          now,
          onClosed: (closed) => {
            connections.delete(closed)
            if (connections.size === 0) onDrained?.()
          },
        })
        connections.add(connection)
      },
    })
      .catch((error: unknown) => {
        logger.error('syncline: upgrade failed', error)
        socket.destroy()
      })
      .finally(() => upgrading.delete(socket))
  })

  async function shutdown(): Promise<void> {
    const wasListening = state === 'listening'
    state = 'closing'
    heartbeat.stop()
    const httpClosed = new Promise<void>((resolve) => {
      if (!wasListening) resolve()
      else http.close(() => resolve())
    })
    http.closeIdleConnections()
    for (const socket of upgrading) socket.destroy()
    const drained = new Promise<void>((resolve) => {
      onDrained = resolve
      if (connections.size === 0) resolve()
    })
    for (const connection of connections) {
      connection.close(CloseCode.GoingAway, 'server shutting down')
    }
    await drained
    flusher.stop()
    ticker.stop()
    departures.clear()
    rooms.disposeAll()
    timers.clearAll()
    recent.clear()
    wss.close()
    // Every document's last batch is written before the store (if ours) closes.
    await rooms.drain()
    if (ownsStore) {
      await store.close().catch((error: unknown) => logger.error('syncline: store close', error))
    }
    http.closeAllConnections()
    await httpClosed
    state = 'closed'
  }

  return {
    async listen() {
      if (state !== 'idle') throw new Error(`listen(): the server is already ${state}`)
      await new Promise<void>((resolve, reject) => {
        http.once('error', reject)
        http.listen(resolved.port, resolved.host, () => {
          http.off('error', reject)
          resolve()
        })
      })
      state = 'listening'
      heartbeat.start()
    },
    get port() {
      const address = http.address()
      return typeof address === 'object' && address !== null ? address.port : resolved.port
    },
    close() {
      closePromise ??= shutdown()
      return closePromise
    },
    stats() {
      return {
        connections: connections.size,
        rooms: rooms.size,
        timers: timers.size + (flusher.pending ? 1 : 0),
        departures: departures.size,
        pendingUpgrades: upgrading.size,
        documents: rooms.documents,
      }
    },
  }
}
