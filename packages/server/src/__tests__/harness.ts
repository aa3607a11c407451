// Test harness for @syncline/server: a real server on 127.0.0.1 (random port) and clients that
// speak the wire protocol over real `ws` sockets. Frames are awaited, never slept for.
import {
  decodeFrame,
  encodeFrame,
  type Frame,
  type FrameOf,
  PROTOCOL_VERSION,
  unbatch,
  type WelcomeFrame,
} from '@syncline/protocol'
import { openTestSocket, type TestClose, type TestSocket } from '@syncline/test-utils'
import { afterEach } from 'vitest'
import type { ClientOptions } from 'ws'
import { createServer, type ServerOptions, type SynclineServer } from '../index'

/** A logger that records instead of printing, so tests can assert on it and stay quiet. */
export function recordingLogger() {
  const warnings: string[] = []
  const errors: string[] = []
  return {
    warnings,
    errors,
    warn: (message: string) => warnings.push(message),
    error: (message: string) => errors.push(message),
  }
}

/** Starts a server on 127.0.0.1 with a random port. */
export async function startServer(options: ServerOptions = {}): Promise<SynclineServer> {
  const server = createServer({ host: '127.0.0.1', port: 0, logger: recordingLogger(), ...options })
  await server.listen()
  return server
}

/** A protocol-speaking test client. */
export interface Client {
  readonly socket: TestSocket
  /** The welcome frame, when connected with `hello` (the default). */
  welcome: WelcomeFrame
  send(frame: Frame): void
  /**
   * The next frame (batches are flattened). With `type`, fails if another frame comes first.
   * Frame types listed in `quiet` (default: pings and presence diffs) are skipped unless
   * `type` asks for them.
   */
  next<T extends Frame['type']>(type?: T): Promise<FrameOf<T>>
  /** Resolves with the close code and reason once the server closed the socket. */
  closed: Promise<TestClose>
  close(): Promise<TestClose>
}

/** Options of {@link connect}. */
export interface ConnectOptions {
  /** Send a hello and await the welcome. Default true. */
  hello?: boolean
  token?: string
  resume?: string
  /** Port to connect to instead of the server's (e.g. a proxy). */
  port?: number
  /** Frame types `next()` skips unless asked for. Default `['ping', 'presenceDiff']`. */
  quiet?: Frame['type'][]
  ws?: ClientOptions
}

/** Opens a client to `server` and (by default) completes the hello. */
export async function connect(
  server: SynclineServer,
  options: ConnectOptions = {},
): Promise<Client> {
  const socket = await openTestSocket(`ws://127.0.0.1:${options.port ?? server.port}/`, options.ws)
  const buffered: Frame[] = []
  const quiet = new Set(options.quiet ?? ['ping', 'presenceDiff'])
  const client: Client = {
    socket,
    welcome: undefined as unknown as WelcomeFrame,
    send(frame) {
      socket.send(encodeFrame(frame))
    },
    async next(type) {
      for (;;) {
        let frame = buffered.shift()
        if (frame === undefined) {
          const message = await socket.next()
          const [first, ...rest] = unbatch(decodeFrame(message.data))
          buffered.push(...rest)
          frame = first as Frame
        }
        if (quiet.has(frame.type) && type !== frame.type) continue
        if (type !== undefined && frame.type !== type) {
          throw new Error(`expected a ${type} frame, got ${JSON.stringify(frame)}`)
        }
        return frame as FrameOf<NonNullable<typeof type>>
      }
    },
    closed: socket.closed,
    close: () => socket.close(),
  }
  if (options.hello !== false) {
    client.send({
      type: 'hello',
      version: PROTOCOL_VERSION,
      ...(options.token !== undefined && { token: options.token }),
      ...(options.resume !== undefined && { resume: options.resume }),
    })
    client.welcome = await client.next('welcome')
  }
  return client
}

/** Joins `room` on `handle`; resolves with the `joined` frame once the snapshot arrived too. */
export async function join(client: Client, handle: number, room: string, presence?: unknown) {
  return (await joinWithSnapshot(client, handle, room, presence)).joined
}

/** Joins `room` on `handle`; resolves with the `joined` frame and the presence snapshot. */
export async function joinWithSnapshot(
  client: Client,
  handle: number,
  room: string,
  presence?: unknown,
) {
  client.send({
    type: 'join',
    handle,
    room,
    doc: false,
    ...(presence !== undefined && { presence }),
  })
  const joined = await client.next('joined')
  const snapshot = await client.next('presenceSnapshot')
  return { joined, snapshot }
}

/** Closes everything given, ignoring what is already closed. */
export async function closeAll(
  ...things: Array<{ close(): Promise<unknown> } | undefined>
): Promise<void> {
  await Promise.all(things.map((thing) => thing?.close()))
}

/**
 * One server per test and the clients connected to it, closed after each test. Call at the top
 * of a test file: `start()` starts this test's server, `client()` connects to it.
 */
export function useServer() {
  const clients: Client[] = []
  let current: SynclineServer | undefined
  afterEach(async () => {
    await closeAll(...clients.splice(0))
    await current?.close()
    current = undefined
  })
  return {
    async start(options: ServerOptions = {}): Promise<SynclineServer> {
      current = await startServer(options)
      return current
    },
    async client(options: ConnectOptions = {}): Promise<Client> {
      if (current === undefined) throw new Error('start a server first')
      const opened = await connect(current, options)
      clients.push(opened)
      return opened
    },
  }
}
