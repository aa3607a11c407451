// An in-memory WebSocket and the server end of it, for client unit tests: no network, no
// timers of its own, so tests drive every step (open, welcome, joined, close codes) with
// fake timers. Frames are encoded and decoded with the real protocol codec, so a client
// that sends a malformed frame fails the test.
import {
  decodeFrame,
  encodeBatch,
  encodeFrame,
  type Frame,
  type FrameOf,
  PROTOCOL_VERSION,
  type PresenceChange,
  type PresenceEntry,
  unbatch,
  type WelcomeFrame,
} from '@syncline/protocol'

/** How the client closed a fake socket. */
export interface ClientClose {
  code: number | undefined
  reason: string | undefined
}

type Handler<E> = ((event: E) => void) | null

/** One fake socket: the WebSocket API for the client, plus controls for the test (the server). */
export class FakeSocket {
  static readonly CONNECTING = 0
  static readonly OPEN = 1
  static readonly CLOSING = 2
  static readonly CLOSED = 3

  readonly url: string
  readyState = FakeSocket.CONNECTING
  binaryType = 'blob'
  onopen: Handler<{ type: 'open' }> = null
  onmessage: Handler<{ data: ArrayBuffer }> = null
  onclose: Handler<{ code: number; reason: string; wasClean: boolean }> = null
  onerror: Handler<{ type: 'error' }> = null

  /** Every frame the client sent, decoded, batches flattened. */
  readonly received: Frame[] = []
  /** Set when the client called `close()`. */
  clientClose: ClientClose | undefined
  /** How many frames `take()` already handed out. */
  #taken = 0
  /** Joins already answered by `acceptJoins()`. */
  readonly #answered: FrameOf<'join'>[] = []
  readonly #server: FakeServer

  constructor(url: string, server: FakeServer) {
    this.url = url
    this.#server = server
  }

  // ---- WebSocket API, used by the client under test ----

  /** Records a frame; throws like a browser when the socket is still connecting. */
  send(data: Uint8Array | ArrayBuffer): void {
    if (this.readyState === FakeSocket.CONNECTING) {
      throw new Error('InvalidStateError: send() while CONNECTING')
    }
    if (this.readyState !== FakeSocket.OPEN) return // Browsers discard silently after close.
    const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data)
    this.received.push(...unbatch(decodeFrame(bytes)))
  }

  /** Client-side close: the close event follows asynchronously, as in a browser. */
  close(code?: number, reason?: string): void {
    if (this.readyState >= FakeSocket.CLOSING) return
    this.clientClose = { code, reason }
    this.readyState = FakeSocket.CLOSING
    queueMicrotask(() => this.#finish(code ?? 1005, reason ?? '', true))
  }

  // ---- Controls for the test, acting as the server ----

  /** Whether the client is still holding this socket open (or opening). */
  get isOpen(): boolean {
    return this.readyState === FakeSocket.OPEN
  }

  /** Completes the WebSocket handshake: the client sees `open` and sends `hello`. */
  accept(): this {
    if (this.readyState !== FakeSocket.CONNECTING) throw new Error('socket is not connecting')
    this.readyState = FakeSocket.OPEN
    this.onopen?.({ type: 'open' })
    return this
  }

  /** Accepts if needed, then sends `welcome` (defaults from the server, overridable). */
  welcome(overrides: Partial<Omit<WelcomeFrame, 'type'>> = {}): this {
    if (this.readyState === FakeSocket.CONNECTING) this.accept()
    const count = this.#server.sockets.indexOf(this) + 1
    const frame: WelcomeFrame = {
      type: 'welcome',
      version: PROTOCOL_VERSION,
      connectionId: `conn-${count}`,
      userId: 'user-1',
      pingIntervalMs: 10_000,
      maxPayloadBytes: 1_048_576,
      resumeToken: `resume-${count}`,
      ...this.#server.welcomeDefaults,
      ...overrides,
    }
    this.connectionId = frame.connectionId
    this.userId = frame.userId
    return this.deliver(frame)
  }

  /** Sends frames to the client: one message, batched when more than one. */
  deliver(...frames: Frame[]): this {
    if (this.readyState !== FakeSocket.OPEN) throw new Error('socket is not open')
    const encoded = frames.map((frame) => encodeFrame(frame))
    const bytes = encodeBatch(encoded)
    // A standalone ArrayBuffer, as a browser delivers with binaryType 'arraybuffer'.
    const data = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)
    this.onmessage?.({ data: data as ArrayBuffer })
    return this
  }

  /** Delivers raw bytes (or a string) to the client, e.g. garbage. */
  sendRaw(data: unknown): this {
    this.onmessage?.({ data: data as ArrayBuffer })
    return this
  }

  /** Frames received since the last `take()`, optionally only of one type. */
  take(): Frame[]
  take<T extends Frame['type']>(type: T): FrameOf<T>[]
  take(type?: Frame['type']): Frame[] {
    const fresh = this.received.slice(this.#taken)
    this.#taken = this.received.length
    return type === undefined ? fresh : fresh.filter((frame) => frame.type === type)
  }

  /** Every received frame of one type. */
  framesOf<T extends Frame['type']>(type: T): FrameOf<T>[] {
    return this.received.filter((frame): frame is FrameOf<T> => frame.type === type)
  }

  /**
   * Answers every join not yet answered the way the server does: `joined`, then a presence
   * snapshot holding this connection alone with the presence from its join (one batch).
   * `snapshot: false` sends only `joined`.
   */
  acceptJoins(access: 'write' | 'read' = 'write', { snapshot = true } = {}): this {
    const answered = new Set(this.#answered.map((frame) => frame.handle))
    const pending = this.framesOf('join').filter((join) => !answered.has(join.handle))
    if (pending.length === 0) return this
    const frames = pending.flatMap((join): Frame[] => {
      const joined: Frame = { type: 'joined', handle: join.handle, access }
      if (!snapshot) return [joined]
      const self = { connectionId: this.connectionId, userId: this.userId, presence: join.presence }
      return [joined, this.#snapshotFrame(join.handle, [self])]
    })
    this.#answered.push(...pending)
    return this.deliver(...frames)
  }

  /** connectionId this socket's `welcome` announced. */
  connectionId = ''
  /** userId this socket's `welcome` announced. */
  userId = ''
  /** Last presence seq sent per handle, so `presenceDiff` numbers itself. */
  readonly #presenceSeq = new Map<number, number>()

  #snapshotFrame(handle: number, entries: PresenceEntry[], seq?: number): Frame {
    const next = seq ?? (this.#presenceSeq.get(handle) ?? 0) + 1
    this.#presenceSeq.set(handle, next)
    return { type: 'presenceSnapshot', handle, seq: next, entries }
  }

  /** Sends a presence snapshot for `room` (seq: the next number, unless given). */
  presenceSnapshot(room: string, entries: PresenceEntry[], seq?: number): this {
    return this.deliver(this.#snapshotFrame(this.handleOf(room), entries, seq))
  }

  /** Sends a presence diff for `room` numbered last + 1 (unless `seq` is given). */
  presenceDiff(room: string, changes: PresenceChange[], seq?: number): this {
    const handle = this.handleOf(room)
    const next = seq ?? (this.#presenceSeq.get(handle) ?? 0) + 1
    this.#presenceSeq.set(handle, Math.max(next, this.#presenceSeq.get(handle) ?? 0))
    return this.deliver({ type: 'presenceDiff', handle, seq: next, changes })
  }

  /** The handle of the latest join for `room`. */
  handleOf(room: string): number {
    const join = this.framesOf('join')
      .filter((frame) => frame.room === room)
      .at(-1)
    if (!join) throw new Error(`no join for room ${room}`)
    return join.handle
  }

  /** The server closes the connection with `code`. */
  serverClose(code: number, reason = ''): void {
    if (this.readyState === FakeSocket.CLOSED) return
    this.#finish(code, reason, code !== 1006)
  }

  /** The network dies: close 1006 without a close frame. */
  drop(): void {
    if (this.readyState === FakeSocket.CLOSED) return
    this.onerror?.({ type: 'error' })
    this.#finish(1006, '', false)
  }

  #finish(code: number, reason: string, wasClean: boolean): void {
    if (this.readyState === FakeSocket.CLOSED) return
    this.readyState = FakeSocket.CLOSED
    this.onclose?.({ code, reason, wasClean })
  }
}

/** The test's view of every socket a client opened. */
export class FakeServer {
  /** Every socket created, oldest first. */
  readonly sockets: FakeSocket[] = []
  /** Welcome fields applied to every `welcome()` unless overridden there. */
  welcomeDefaults: Partial<Omit<WelcomeFrame, 'type'>> = {}
  readonly #waiters: ((socket: FakeSocket) => void)[] = []

  /** Pass this as the client's `WebSocket` option. */
  readonly WebSocket: new (
    url: string,
  ) => FakeSocket

  constructor() {
    const server = this
    this.WebSocket = class extends FakeSocket {
      constructor(url: string) {
        super(url, server)
        server.sockets.push(this)
        for (const resolve of server.#waiters.splice(0)) resolve(this)
      }
    }
  }

  /** The newest socket; throws if none was created. */
  get last(): FakeSocket {
    const socket = this.sockets.at(-1)
    if (!socket) throw new Error('the client has not created a socket')
    return socket
  }

  /** Sockets neither side has closed yet. */
  get openSockets(): FakeSocket[] {
    return this.sockets.filter((socket) => socket.readyState < FakeSocket.CLOSING)
  }

  /** Resolves with the next socket the client creates (or the newest, if it has not been awaited). */
  nextSocket(): Promise<FakeSocket> {
    return new Promise((resolve) => this.#waiters.push(resolve))
  }
}

/** Creates a fake server; pass `server.WebSocket` to the client. */
export function createFakeServer(): FakeServer {
  return new FakeServer()
}
