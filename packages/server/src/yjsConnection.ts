// One stock y-websocket client on `/yjs/<room>`: authenticated from the URL token, checked
// against the room's permission, joined to the SAME room as native clients once the document is
// loaded, and then speaking plain y-protocols sync and awareness. Its messages are processed in
// order (messages sent before the document loaded wait for it), rate-limited like native ones,
// and every way it can end goes through one teardown.
import type { IncomingHttpHeaders } from 'node:http'
import { CloseCode } from '@syncline/protocol'
import WebSocket, { type RawData } from 'ws'
import { runAuthenticate } from './auth'
import type { ReceivedAwareness } from './awarenessBridge'
import { decodeAwarenessUpdate, encodeAwarenessUpdate } from './awarenessUpdate'
import { limits } from './defaults'
import type { HeartbeatTarget } from './heartbeat'
import { createAnonymousUserId, createConnectionId } from './ids'
import type { AuthenticatedUser, ResolvedOptions, RoomAccess } from './options'
import { validatePresence } from './presence'
import { createTokenBucket, type TokenBucket, takeTokens } from './rateLimiter'
import type { Membership } from './room'
import { roomNameProblem } from './roomName'
import type { RoomRegistry } from './roomRegistry'
import { SerialQueue } from './serialQueue'
import { closeWithGrace } from './socketClose'
import { MalformedSyncMessageError } from './syncMessage'
import type { TimerHandle, TimerSet } from './timers'
import {
  decodeYjsMessage,
  encodeYjsAwareness,
  encodeYjsPermissionDenied,
  encodeYjsSync,
} from './yjsMessage'

/** What the HTTP upgrade of a `/yjs/<room>` request learned. */
export interface YjsUpgradeContext {
  /** The room name from the path; `undefined` when it could not be decoded. */
  room: string | undefined
  /** The `?token=` query parameter, or else an `Authorization: Bearer` token. */
  token: string | undefined
  headers: IncomingHttpHeaders
  origin: string | undefined
}

/** Server-wide collaborators of a y-websocket connection. */
export interface YjsConnectionDeps {
  options: ResolvedOptions
  rooms: RoomRegistry
  timers: TimerSet
  now: () => number
  /** Called once when the socket has closed and the connection released everything. */
  onClosed: (connection: YjsConnection) => void
}

/** Where a y-websocket connection is in its life. */
export type YjsConnectionState = 'starting' | 'open' | 'closing' | 'closed'

/**
 * Sent with every heartbeat ping: an awareness update with no entries. It changes nothing on the
 * client, but y-websocket closes a connection that received no message for 30 s, and a quiet
 * room would otherwise send none.
 */
const keepalive = encodeYjsAwareness(encodeAwarenessUpdate([]))

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data)
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data
}

/** A stock y-websocket client; created by the server for each accepted `/yjs/<room>` upgrade. */
export class YjsConnection implements HeartbeatTarget {
  /** Random, like native connections; the room's members see it in presence entries. */
  readonly connectionId = createConnectionId()
  /** Assigned once `authenticate` accepted; empty before. */
  userId = ''
  /** {@inheritDoc RoomPeer.protocol} */
  readonly protocol = 'yjs' as const
  /** When the last message or pong arrived, ms (read by the heartbeat). */
  lastSeen: number
  /** When the server last pinged, ms (read by the heartbeat). */
  lastPingAt: number

  readonly #ws: WebSocket
  readonly #context: YjsUpgradeContext
  readonly #deps: YjsConnectionDeps
  readonly #queue: SerialQueue<Uint8Array | null>
  readonly #bucket: TokenBucket
  #membership: Membership | undefined
  #state: YjsConnectionState = 'starting'
  #startTimer: TimerHandle | undefined
  #terminateTimer: TimerHandle | undefined
  #toldReadOnly = false

  constructor(ws: WebSocket, context: YjsUpgradeContext, deps: YjsConnectionDeps) {
    this.#ws = ws
    this.#context = context
    this.#deps = deps
    const now = deps.now()
    this.lastSeen = now
    this.lastPingAt = now
    const { framesPerSecond, burst } = deps.options.rateLimit
    this.#bucket = createTokenBucket(framesPerSecond, burst, now)
    // `null` is the start step (authenticate, permission, load, join); messages queue behind it.
    this.#queue = new SerialQueue(
      (item) => (item === null ? this.#start() : this.#handle(item)),
      (error) => this.#fail(error),
    )
    this.#startTimer = deps.timers.timeout(
      () =>
        this.close(
          CloseCode.TryAgainLater,
          'timeout: not authenticated and joined within helloTimeoutMs',
        ),
      deps.options.helloTimeoutMs,
    )
    ws.on('message', (data, isBinary) => this.#onMessage(data, isBinary))
    ws.on('pong', () => {
      this.lastSeen = this.#deps.now()
    })
    ws.on('close', () => this.#teardown())
    ws.on('error', () => {})
    this.#queue.push(null)
  }

  /** Where the connection is in its life. */
  get state(): YjsConnectionState {
    return this.#state
  }

  /** Sends one message if the socket is open; closes a consumer that cannot keep up. */
  send(bytes: Uint8Array): void {
    if (this.#state !== 'open' || this.#ws.readyState !== WebSocket.OPEN) return
    if (this.#ws.bufferedAmount > limits.maxBufferedBytes) {
      this.close(CloseCode.TryAgainLater, 'send buffer full: client too slow')
      return
    }
    this.#ws.send(bytes)
  }

  /** {@inheritDoc TickRecipient.sendTick} y-websocket has no batch: one message each. */
  sendTick(frames: Uint8Array[]): void {
    for (const frame of frames) this.send(frame)
  }

  /**
   * {@inheritDoc HeartbeatTarget.ping} A WebSocket-level ping (browsers and `ws` answer it
   * without the application) plus an empty awareness message for y-websocket's own watchdog.
   */
  ping(_id: number): void {
    this.lastPingAt = this.#deps.now()
    if (this.#state !== 'open' || this.#ws.readyState !== WebSocket.OPEN) return
    this.#ws.ping()
    this.send(keepalive)
  }

  /**
   * {@inheritDoc HeartbeatTarget.timeOut} Closed with 1013, not 4408: y-websocket stops
   * reconnecting after any 44xx code, and a timed-out client should come back.
   */
  timeOut(): void {
    this.close(CloseCode.TryAgainLater, 'timeout: no message or pong within presenceTimeoutMs')
  }

  /** Leaves the room, sends a close frame and terminates the socket if the peer does not answer. */
  close(code: number, reason: string): void {
    if (this.#state === 'closing' || this.#state === 'closed') return
    this.#state = 'closing'
    this.#release()
    this.#terminateTimer = closeWithGrace(this.#ws, code, reason, this.#deps.timers)
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    if (this.#state === 'closing' || this.#state === 'closed') return
    const now = this.#deps.now()
    this.lastSeen = now
    if (!takeTokens(this.#bucket, 1, now)) {
      // 1013 rather than 4429: y-websocket gives up after any 44xx code; this one is transient.
      this.close(CloseCode.TryAgainLater, 'rate limit exceeded')
      return
    }
    if (!isBinary) {
      this.close(CloseCode.MalformedFrame, 'binary messages only')
      return
    }
    this.#queue.push(toBytes(data))
  }

  async #start(): Promise<void> {
    const name = this.#context.room
    const problem =
      name === undefined ? 'room name is not valid percent-encoding' : roomNameProblem(name)
    if (name === undefined || problem !== undefined) {
      this.close(CloseCode.MalformedFrame, problem ?? 'invalid room name')
      return
    }
    const user = await this.#authenticate()
    if (user === undefined || this.#state !== 'starting') return
    this.userId = user.userId
    const access = await this.#access(user, name)
    if (access === undefined || this.#state !== 'starting') return
    if (access === false) {
      this.close(CloseCode.Forbidden, `not allowed to join room "${name}"`)
      return
    }
    const room = this.#deps.rooms.acquire(name)
    room.reserve()
    try {
      await room.loadDocument()
    } catch {
      room.release()
      this.close(CloseCode.InternalError, 'load_failed: the document could not be loaded')
      return
    }
    try {
      if (this.#state !== 'starting') return
      this.#deps.timers.clear(this.#startTimer)
      this.#startTimer = undefined
      this.#membership = room.join(this, 1, access, undefined, true)
      this.#state = 'open'
      // As y-websocket's own server: our step 1 (the client answers with what we lack), then
      // everyone's awareness. The client's step 1 is answered when it is processed.
      this.send(encodeYjsSync(room.documentStep1()))
      const awareness = room.awarenessSnapshot(this.#membership)
      if (awareness !== undefined) this.send(awareness)
    } finally {
      room.release()
    }
  }

  /** The user, or `undefined` after closing the socket with 4401. */
  async #authenticate(): Promise<AuthenticatedUser | undefined> {
    const { authenticate } = this.#deps.options
    if (authenticate === undefined) return { userId: createAnonymousUserId() }
    const { token, headers, origin } = this.#context
    const outcome = await runAuthenticate(authenticate, {
      headers,
      phase: 'upgrade',
      ...(token !== undefined && { token }),
      ...(origin !== undefined && { origin }),
    })
    if (outcome.kind === 'accepted') return outcome.user
    this.close(
      CloseCode.Unauthorized,
      outcome.kind === 'refused' ? outcome.reason : 'authentication failed',
    )
    return undefined
  }

  /** The user's access to `room`, or `undefined` after closing the socket because the check failed. */
  async #access(user: AuthenticatedUser, room: string): Promise<RoomAccess | undefined> {
    if (user.rooms === undefined) return 'write'
    let access: RoomAccess
    try {
      access = await user.rooms(room)
    } catch (error) {
      this.#deps.options.logger.warn(`syncline: rooms("${room}") threw`, error)
      this.close(CloseCode.InternalError, 'the permission check failed')
      return undefined
    }
    if (access !== 'write' && access !== 'read' && access !== false) {
      this.#deps.options.logger.error(
        `syncline: rooms("${room}") returned ${String(access)}; expected 'write', 'read' or false`,
      )
      this.close(CloseCode.InternalError, 'the permission check failed')
      return undefined
    }
    return access
  }

  #handle(bytes: Uint8Array): void {
    const membership = this.#membership
    if (this.#state !== 'open' || membership === undefined) return
    let message: ReturnType<typeof decodeYjsMessage>
    try {
      message = decodeYjsMessage(bytes)
    } catch (error) {
      this.close(CloseCode.MalformedFrame, error instanceof Error ? error.message : 'bad message')
      return
    }
    switch (message.type) {
      case 'sync':
        this.#sync(membership, message.message)
        return
      case 'awareness':
        this.#awareness(membership, message.update)
        return
      case 'queryAwareness': {
        const awareness = membership.room.awarenessSnapshot(membership)
        if (awareness !== undefined) this.send(awareness)
        return
      }
    }
  }

  #sync(membership: Membership, message: Uint8Array): void {
    let outcome: ReturnType<Membership['room']['receiveSync']>
    try {
      outcome = membership.room.receiveSync(membership, message, false)
    } catch (error) {
      if (!(error instanceof MalformedSyncMessageError)) throw error
      this.close(CloseCode.MalformedFrame, error.message)
      return
    }
    for (const reply of outcome.replies) this.send(encodeYjsSync(reply))
    if (outcome.readOnlyDropped && !this.#toldReadOnly) {
      // Once per connection: y-websocket logs it as "Permission denied".
      this.#toldReadOnly = true
      this.send(encodeYjsPermissionDenied('read-only: changes to the document are dropped'))
    }
  }

  #awareness(membership: Membership, update: Uint8Array): void {
    let entries: ReturnType<typeof decodeAwarenessUpdate>
    try {
      entries = decodeAwarenessUpdate(update)
    } catch (error) {
      const reason = error instanceof Error ? error.message : 'undecodable'
      this.close(CloseCode.MalformedFrame, `malformed awareness update: ${reason}`)
      return
    }
    const received: ReceivedAwareness[] = []
    for (const { clientID, clock, state } of entries) {
      if (state === null) {
        received.push({ clientID, clock, presence: null })
        continue
      }
      // Presence must be a small JSON object; other states are not relayed.
      const checked = validatePresence(state, this.#deps.options.maxPresenceBytes)
      if (checked.ok)
        received.push({ clientID, clock, presence: { value: state, json: checked.json } })
    }
    if (received.length > 0) membership.room.receiveAwareness(membership, received)
  }

  /** An unexpected exception while handling a message: a bug, not bad input. */
  #fail(error: unknown): void {
    this.#deps.options.logger.error('syncline: internal error on a /yjs connection', error)
    this.close(CloseCode.InternalError, 'internal error')
  }

  /** Leaves the room and stops processing; safe to call more than once. */
  #release(): void {
    this.#queue.dispose()
    this.#deps.timers.clear(this.#startTimer)
    this.#startTimer = undefined
    const membership = this.#membership
    this.#membership = undefined
    membership?.room.leave(membership)
  }

  #teardown(): void {
    if (this.#state === 'closed') return
    this.#state = 'closed'
    this.#release()
    this.#deps.timers.clear(this.#terminateTimer)
    this.#terminateTimer = undefined
    this.#deps.onClosed(this)
  }
}
