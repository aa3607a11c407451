// The one WebSocket of a client and everything that keeps it alive: the hello/welcome
// handshake, reconnects with jittered backoff, the close-code table, token refresh on 4401,
// dead-peer detection and the environment signals. Rooms ride on top (roomRegistry.ts);
// this file knows nothing about them beyond the hooks it calls.
import {
  CloseCode,
  closeAction,
  decodeFrame,
  encodeFrame,
  type Frame,
  PROTOCOL_VERSION,
  ProtocolError,
  unbatch,
  type WelcomeFrame,
} from '@syncline/protocol'
import type EventEmitter from 'eventemitter3'
import { atom, type ReadableAtom } from 'nanostores'
import { backoffDelay } from './backoff'
import { DEFAULT_MAX_PAYLOAD_BYTES, NORMAL_CLOSE_CODE } from './defaults'
import type { PageEvent } from './environment'
import { describeError, SynclineError } from './errors'
import type { DropReason } from './offlineQueue'
import { checkUrl, type ResolvedClientOptions, type WebSocketLike } from './options'
import { Watchdog } from './watchdog'

/** Connection state of a client. See the README for the diagram. */
export type ClientStatus =
  | 'idle'
  | 'connecting'
  | 'connected'
  | 'reconnecting'
  | 'offline'
  | 'closed'
  | 'failed'

/** Why a client stopped for good: a close code (number) or a local reason (string). */
export interface Failure {
  code: number | string
  reason: string
}

/** Everything the offline queue refused or discarded, as reported by the `dropped` event. */
export interface DroppedInfo {
  /** Room the message was for. */
  room: string
  /** What it was. */
  kind: 'broadcast' | 'presence'
  /** The broadcast's event name. */
  event?: string
  /** The broadcast payload or the presence object. */
  payload: unknown
  /** Why it will never be sent. */
  reason: DropReason
}

/** Events of a client (`client.on(...)`). */
export interface ClientEvents {
  /** The status changed; `failure` is set when the new status is `failed`. */
  status: (status: ClientStatus, failure: Failure | undefined) => void
  /** Something went wrong that the client handles itself (it keeps retrying); for logging. */
  error: (error: SynclineError) => void
  /** Disconnected for longer than `lostConnectionTimeout`; fires once per outage. */
  lost: () => void
  /** Connected again after a `lost`. */
  restored: () => void
  /** A queued message will never be sent (queue overflow, room left, too large). */
  dropped: (info: DroppedInfo) => void
}

/** What the connection tells its owner (the room registry) about the socket. */
export interface ConnectionHooks {
  /** The socket opened and `hello` was sent: frames may be pipelined from here on. */
  open(): void
  /** `welcome` arrived. */
  welcome(frame: WelcomeFrame): void
  /** A frame for the rooms (anything but welcome, ping, pong and connection errors). */
  frame(frame: Frame): void
  /** The socket is gone (closed, failed, timed out or destroyed). */
  disconnect(): void
  /** The page is being hidden or restored (bfcache). */
  page(event: PageEvent): void
}

type Timer = ReturnType<typeof setTimeout>

const OPEN = 1

/**
 * Closes a socket whose handlers {@link Connection} already removed. A socket still connecting
 * reports the abort as an `error` event, and `ws` (Node) turns an `error` event nobody listens to
 * into an uncaught exception ("WebSocket was closed before the connection was established"), so
 * a no-op listener stays attached to absorb it.
 */
function closeDetached(socket: WebSocketLike, code: number, reason: string): void {
  socket.onerror = () => {}
  socket.close(code, reason)
}

function toBytes(data: unknown): Uint8Array | undefined {
  // Tag check rather than instanceof: buffers from another realm (iframe, worker, vm) count too.
  if (Object.prototype.toString.call(data) === '[object ArrayBuffer]') {
    return new Uint8Array(data as ArrayBuffer)
  }
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  return undefined
}

function closeReason(code: number): string {
  switch (code) {
    case CloseCode.MalformedFrame:
      return 'The server could not decode a frame from this client (4400).'
    case CloseCode.Unauthorized:
      return 'The server rejected the token from `auth` twice in a row (4401).'
    case CloseCode.Forbidden:
      return 'The server does not allow this user to connect (4403).'
    case CloseCode.ProtocolVersion:
      return `The server speaks another protocol version than this client (${PROTOCOL_VERSION}) (4426).`
    default:
      return `The connection closed with code ${code}.`
  }
}

/** Owns the socket, its timers and the environment listeners of one client. */
export class Connection {
  readonly #options: ResolvedClientOptions
  readonly #events: EventEmitter<ClientEvents>
  readonly #hooks: ConnectionHooks

  readonly #status = atom<ClientStatus>('idle')
  readonly #failure = atom<Failure | null>(null)
  readonly #userId = atom<string | null>(null)
  readonly #connectionId = atom<string | null>(null)

  #socket: WebSocketLike | undefined
  #welcomed = false
  /** Bumped whenever an attempt is superseded, so stale async work can tell. */
  #generation = 0
  /** Backoff attempt number; reset by a welcome. */
  #attempt = 0
  /** 4401s since the last welcome: the second one is terminal. */
  #unauthorized = 0
  /** True until the first attempt after `connect()` fails: `connecting` vs `reconnecting`. */
  #firstAttempt = true
  #lostEmitted = false
  /** Closed on `pagehide`; the next `pageshow` (or any wake-up) reconnects. */
  #suspended = false
  #pingId = 0
  #resumeToken: string | undefined
  #maxPayloadBytes: number = DEFAULT_MAX_PAYLOAD_BYTES

  /** Every timer this connection owns, by purpose; `#clearTimer` is the only way to drop one. */
  readonly #timers: Partial<Record<'retry' | 'handshake' | 'lost', Timer>> = {}
  #watchdog: Watchdog | undefined
  #unsubscribers: (() => void)[] = []

  constructor(
    options: ResolvedClientOptions,
    events: EventEmitter<ClientEvents>,
    hooks: ConnectionHooks,
  ) {
    this.#options = options
    this.#events = events
    this.#hooks = hooks
  }

  /** Current status. */
  get status(): ReadableAtom<ClientStatus> {
    return this.#status
  }

  /** Why the client failed, while `status` is `failed`. */
  get failure(): ReadableAtom<Failure | null> {
    return this.#failure
  }

  /** The user the server authenticated (from `welcome`). */
  get userId(): ReadableAtom<string | null> {
    return this.#userId
  }

  /** This connection's id (from `welcome`); changes on every reconnect. */
  get connectionId(): ReadableAtom<string | null> {
    return this.#connectionId
  }

  /** Largest frame the server accepts (from `welcome`; the server default before). */
  get maxPayloadBytes(): number {
    return this.#maxPayloadBytes
  }

  /** The socket is open and `hello` was sent: frames can be sent (the server orders them). */
  get isOpen(): boolean {
    return this.#socket !== undefined && this.#socket.readyState === OPEN
  }

  /** Starts connecting (from `idle`, or again after `failed`). Otherwise a no-op. */
  connect(): void {
    const status = this.#status.get()
    if (status !== 'idle' && status !== 'failed') return
    this.#failure.set(null)
    this.#attempt = 0
    this.#unauthorized = 0
    this.#firstAttempt = true
    if (this.#unsubscribers.length === 0) this.#listenToEnvironment()
    if (!this.#options.environment.online.isOnline()) {
      this.#setStatus('offline')
      return
    }
    this.#attemptNow()
  }

  /** Sends encoded bytes if the socket is open; returns whether it did. */
  sendBytes(bytes: Uint8Array): boolean {
    const socket = this.#socket
    if (!socket || socket.readyState !== OPEN) return false
    socket.send(bytes)
    return true
  }

  /** Encodes and sends `frame` if the socket is open; returns whether it did. */
  send(frame: Frame): boolean {
    return this.isOpen && this.sendBytes(encodeFrame(frame))
  }

  /** Closes the socket with 1000 and releases every timer and listener. Status `closed`. */
  destroy(): void {
    if (this.#status.get() === 'closed') return
    this.#generation++
    const socket = this.#socket
    this.#teardownSocket()
    if (socket) closeDetached(socket, NORMAL_CLOSE_CODE, 'client destroyed')
    this.#clearTimer('retry')
    this.#clearTimer('lost')
    for (const unsubscribe of this.#unsubscribers) unsubscribe()
    this.#unsubscribers = []
    this.#setStatus('closed')
  }

  #listenToEnvironment(): void {
    const { online, visibility, page } = this.#options.environment
    this.#unsubscribers.push(
      online.subscribe((isOnline) => (isOnline ? this.#wake() : this.#wentOffline())),
      visibility.subscribe((visible) => {
        if (visible) this.#wake()
      }),
      page.subscribe((event) => {
        this.#hooks.page(event)
        if (event.type === 'pagehide') this.#suspend()
        else this.#wake()
      }),
    )
  }

  /** Something suggests the network works now: skip any backoff wait. */
  #wake(): void {
    const status = this.#status.get()
    if (status === 'connected') {
      // Timers may have been frozen while hidden: check the silence now, not at the next tick.
      this.#watchdog?.check()
      return
    }
    if (!this.#options.environment.online.isOnline()) return
    const waiting = this.#timers.retry !== undefined || status === 'offline' || this.#suspended
    if (waiting) this.#attemptNow()
  }

  /**
   * `pagehide`: the page is unloading or entering the bfcache. Close the socket cleanly (the
   * hooks already sent the leaves) and make no attempt until the page is shown again.
   */
  #suspend(): void {
    const status = this.#status.get()
    if (status === 'idle' || status === 'closed' || status === 'failed') return
    this.#generation++
    this.#clearTimer('retry')
    const socket = this.#socket
    this.#teardownSocket()
    // Timers freeze in the bfcache; a stale "lost" must not fire the moment the page returns.
    this.#clearTimer('lost')
    if (socket) closeDetached(socket, NORMAL_CLOSE_CODE, 'page hidden')
    this.#hooks.disconnect()
    this.#suspended = true
    this.#firstAttempt = false
    this.#setStatus('reconnecting')
  }

  #wentOffline(): void {
    if (this.#timers.retry !== undefined) {
      this.#clearTimer('retry')
      this.#setStatus('offline')
    } else if (this.#status.get() === 'connected') {
      // `offline` can be wrong (VPNs, captive portals): prove the socket dead before dropping it.
      this.#watchdog?.probe()
    }
    // An attempt in flight finishes; if it fails, the retry logic sees we are offline.
  }

  #attemptNow(): void {
    this.#suspended = false
    this.#clearTimer('retry')
    const generation = ++this.#generation
    this.#setStatus(this.#firstAttempt ? 'connecting' : 'reconnecting')
    void this.#open(generation)
  }

  async #open(generation: number): Promise<void> {
    const { url, auth } = this.#options
    // Yield first: an attempt started inside createClient() must not report errors before
    // the caller had a chance to subscribe to them.
    await undefined
    if (generation !== this.#generation) return
    let resolvedUrl: string
    try {
      const value = typeof url === 'function' ? await url() : url
      resolvedUrl = checkUrl(value, (bad) => {
        return new Error(
          `the \`url\` option returned ${typeof bad === 'string' ? JSON.stringify(bad) : String(bad)}, expected a ws:// or wss:// URL`,
        )
      })
    } catch (error) {
      if (generation !== this.#generation) return
      this.#attemptFailed(
        new SynclineError('url_failed', `Could not resolve the URL: ${describeError(error)}`, {
          cause: error,
        }),
      )
      return
    }
    if (generation !== this.#generation) return

    let token: string | undefined
    try {
      token = auth ? await auth() : undefined
      if (token !== undefined && typeof token !== 'string') {
        throw new Error(`\`auth\` must return a string token, got ${typeof token}`)
      }
    } catch (error) {
      if (generation !== this.#generation) return
      this.#attemptFailed(
        new SynclineError('auth_failed', `The auth provider failed: ${describeError(error)}`, {
          cause: error,
        }),
      )
      return
    }
    if (generation !== this.#generation) return

    let socket: WebSocketLike
    try {
      socket = new this.#options.WebSocket(resolvedUrl)
      socket.binaryType = 'arraybuffer'
    } catch (error) {
      this.#attemptFailed(
        new SynclineError('url_failed', `Could not open a WebSocket: ${describeError(error)}`, {
          cause: error,
        }),
      )
      return
    }
    this.#socket = socket
    this.#setTimer('handshake', this.#options.handshakeTimeoutMs, () =>
      this.#closeLocally(CloseCode.Timeout, 'no welcome from the server in time'),
    )

    socket.onopen = () => {
      if (socket !== this.#socket) return
      const hello: Frame = { type: 'hello', version: PROTOCOL_VERSION }
      if (token !== undefined) hello.token = token
      if (this.#resumeToken !== undefined) hello.resume = this.#resumeToken
      socket.send(encodeFrame(hello))
      this.#hooks.open()
    }
    socket.onmessage = (event: { data: unknown }) => {
      if (socket === this.#socket) this.#receive(socket, event.data)
    }
    // Every error is followed by a close event, which reports it; `ws` names the cause (e.g.
    // "Unexpected server response: 403"), browsers do not.
    let lastError: string | undefined
    socket.onclose = (event: { code?: number; reason?: string }) => {
      if (socket !== this.#socket) return
      this.#closed(event.code ?? CloseCode.Abnormal, event.reason ?? '', lastError)
    }
    socket.onerror = (event: { message?: unknown }) => {
      if (typeof event?.message === 'string' && event.message !== '') lastError = event.message
    }
  }

  /** Resolving the URL or token, or constructing the socket, failed: report and retry. */
  #attemptFailed(error: SynclineError): void {
    this.#events.emit('error', error)
    this.#firstAttempt = false
    this.#scheduleRetry()
  }

  #receive(socket: WebSocketLike, data: unknown): void {
    const bytes = toBytes(data)
    let frames: Frame[]
    try {
      if (!bytes)
        throw new ProtocolError('invalid_field', 'text message where a binary frame was expected')
      frames = unbatch(decodeFrame(bytes))
    } catch (error) {
      this.#protocolError(`The server sent an invalid frame: ${describeError(error)}`, error)
      return
    }
    this.#watchdog?.frameReceived()
    for (const frame of frames) {
      // A hook may have closed or replaced the socket (destroy inside a listener).
      if (socket !== this.#socket) return
      if (!this.#welcomed) {
        if (frame.type !== 'welcome') {
          this.#protocolError(`The server sent ${frame.type} before welcome.`)
          return
        }
        this.#welcome(frame)
        continue
      }
      switch (frame.type) {
        case 'ping':
          this.send({ type: 'pong', id: frame.id })
          break
        case 'pong':
        case 'welcome':
          break
        case 'error':
          if (frame.handle === 0) {
            this.#events.emit(
              'error',
              new SynclineError('server_error', `Server error ${frame.code}: ${frame.message}`, {
                details: { code: frame.code },
              }),
            )
            break
          }
          this.#hooks.frame(frame)
          break
        default:
          this.#hooks.frame(frame)
      }
    }
  }

  #welcome(frame: WelcomeFrame): void {
    this.#welcomed = true
    this.#clearTimer('handshake')
    this.#attempt = 0
    this.#unauthorized = 0
    this.#firstAttempt = false
    this.#resumeToken = frame.resumeToken
    this.#maxPayloadBytes = frame.maxPayloadBytes
    this.#userId.set(frame.userId)
    this.#connectionId.set(frame.connectionId)
    const { heartbeat, now } = this.#options
    this.#watchdog = new Watchdog({
      timeoutMs: frame.pingIntervalMs + heartbeat.graceMs,
      probeTimeoutMs: heartbeat.probeTimeoutMs,
      lateTimerToleranceMs: heartbeat.lateTimerToleranceMs,
      now,
      probe: () => this.send({ type: 'ping', id: ++this.#pingId }),
      dead: (silentFor) =>
        this.#closeLocally(CloseCode.Timeout, `no frame from the server for ${silentFor} ms`),
    })
    this.#watchdog.start()
    this.#clearTimer('lost')
    this.#setStatus('connected')
    if (this.#lostEmitted) {
      this.#lostEmitted = false
      this.#events.emit('restored')
    }
    this.#hooks.welcome(frame)
  }

  #protocolError(message: string, cause?: unknown): void {
    this.#events.emit('error', new SynclineError('protocol_error', message, { cause }))
    // Not terminal: a proxy or a server bug may have garbled it, and backoff bounds the cost.
    this.#closeLocally(CloseCode.MalformedFrame, 'invalid frame from the server', 'retry')
  }

  /** We end the socket ourselves (timeout, protocol error) and handle the close at once. */
  #closeLocally(code: number, reason: string, action?: 'retry'): void {
    const socket = this.#socket
    if (!socket) return
    this.#teardownSocket()
    closeDetached(socket, code, reason)
    this.#afterClose(code, reason, action)
  }

  #closed(code: number, reason: string, error?: string): void {
    const welcomed = this.#welcomed
    this.#teardownSocket()
    if (!welcomed && closeAction(code) === 'retry') {
      // The attempt failed before the server accepted it (refused upgrade, nothing listening):
      // it is retried, but never silently.
      const cause = [error, reason].filter(Boolean).join(': ')
      this.#events.emit(
        'error',
        new SynclineError(
          'connection_failed',
          `Could not connect: the socket closed with code ${code} before the server accepted it${cause ? ` (${cause})` : ''}.`,
          { details: { code, reason } },
        ),
      )
    }
    this.#afterClose(code, reason)
  }

  #afterClose(code: number, reason: string, forced?: 'retry'): void {
    this.#hooks.disconnect()
    const action = forced ?? closeAction(code)
    if (action === 'fail') {
      this.#fail({ code, reason: reason || closeReason(code) })
      return
    }
    this.#firstAttempt = false
    if (action === 'reauthenticate') {
      if (this.#unauthorized >= 1) {
        this.#fail({ code, reason: reason || closeReason(code) })
        return
      }
      this.#unauthorized++
      // `auth` runs on every attempt, so retrying at once is asking for a fresh token.
      if (this.#options.environment.online.isOnline()) this.#attemptNow()
      else this.#setStatus('offline')
      return
    }
    this.#scheduleRetry()
  }

  #scheduleRetry(): void {
    this.#clearTimer('retry')
    if (!this.#options.environment.online.isOnline()) {
      this.#setStatus('offline')
      return
    }
    const delay = backoffDelay(this.#attempt++, this.#options.backoff, this.#options.random)
    this.#setStatus('reconnecting')
    this.#setTimer('retry', delay, () => this.#attemptNow())
  }

  #fail(failure: Failure): void {
    this.#generation++
    this.#clearTimer('retry')
    this.#clearTimer('lost')
    this.#failure.set(failure)
    this.#setStatus('failed', failure)
  }

  /** Detaches from the current socket and stops everything tied to it. */
  #teardownSocket(): void {
    const socket = this.#socket
    const wasWelcomed = this.#welcomed
    this.#socket = undefined
    this.#welcomed = false
    this.#clearTimer('handshake')
    this.#watchdog?.stop()
    this.#watchdog = undefined
    if (socket) {
      socket.onopen = null
      socket.onmessage = null
      socket.onclose = null
      socket.onerror = null
    }
    if (wasWelcomed) this.#startLostTimer()
  }

  #startLostTimer(): void {
    if (this.#lostEmitted || this.#timers.lost !== undefined) return
    this.#setTimer('lost', this.#options.lostConnectionTimeout, () => {
      this.#lostEmitted = true
      this.#events.emit('lost')
    })
  }

  #setTimer(which: 'retry' | 'handshake' | 'lost', ms: number, fire: () => void): void {
    this.#clearTimer(which)
    this.#timers[which] = setTimeout(() => {
      delete this.#timers[which]
      fire()
    }, ms)
  }

  #clearTimer(which: 'retry' | 'handshake' | 'lost'): void {
    const timer = this.#timers[which]
    if (timer === undefined) return
    clearTimeout(timer)
    delete this.#timers[which]
  }

  #setStatus(status: ClientStatus, failure?: Failure): void {
    if (this.#status.get() === status) return
    this.#status.set(status)
    this.#events.emit('status', status, failure)
  }
}
