// One client WebSocket from upgrade to close: the hello/auth handshake, in-order frame
// processing, rate limiting, room memberships by handle, and a single teardown path that
// releases everything the connection holds whatever way it ends.
import type { IncomingHttpHeaders } from 'node:http'
import {
  type Access,
  type BroadcastFrame,
  CloseCode,
  type DocFrame,
  decodeFrame,
  encodeBatch,
  encodeFrame,
  type Frame,
  type HelloFrame,
  type JoinFrame,
  PROTOCOL_VERSION,
  type PresenceFrame,
  ProtocolError,
  unbatch,
} from '@syncline/protocol'
import WebSocket, { type RawData } from 'ws'
import { runAuthenticate } from './auth'
import { limits } from './defaults'
import type { Departures } from './departures'
import type { HeartbeatTarget } from './heartbeat'
import { createAnonymousUserId, createConnectionId, createResumeToken } from './ids'
import type { AuthenticatedUser, ResolvedOptions, RoomAccess } from './options'
import type { OutboxFlusher, OutboxOwner } from './outbox'
import { validatePresence } from './presence'
import { createTokenBucket, type TokenBucket, takeTokens } from './rateLimiter'
import type { RecentConnection, RecentConnections } from './recentConnections'
import type { Membership, PresenceValue, Room, RoomPeer } from './room'
import { roomNameProblem } from './roomName'
import type { RoomRegistry } from './roomRegistry'
import { SerialQueue } from './serialQueue'
import { closeWithGrace } from './socketClose'
import { MalformedSyncMessageError } from './syncMessage'
import type { TimerHandle, TimerSet } from './timers'

/** What the HTTP upgrade learned about the connection. */
export interface UpgradeContext {
  headers: IncomingHttpHeaders
  origin: string | undefined
  /** Set when credentials on the HTTP request were accepted at the upgrade. */
  user: AuthenticatedUser | undefined
}

/** Server-wide collaborators of a connection. */
export interface ConnectionDeps {
  options: ResolvedOptions
  rooms: RoomRegistry
  recent: RecentConnections
  /** Connections that dropped uncleanly and may be resumed. */
  departures: Departures
  /** Authenticated connections by connectionId (this server's own, live ones). */
  live: Map<string, Connection>
  timers: TimerSet
  /** Writes every connection's queued frames once per event-loop turn. */
  flusher: OutboxFlusher
  now: () => number
  /** Called once when the socket has closed and the connection released everything. */
  onClosed: (connection: Connection) => void
}

/**
 * What happens to a connection's presence when it ends: removed at once (leave, clean close,
 * timeout, protocol error) or held for presenceGraceMs (dropped without a close frame).
 */
export type Departure = 'remove' | 'hold'

/** Where a connection is in its life. */
export type ConnectionState = 'hello' | 'authenticating' | 'open' | 'closing' | 'closed'

const serverOnlyFrames: ReadonlySet<Frame['type']> = new Set<Frame['type']>([
  'welcome',
  'joined',
  'denied',
  'error',
  'ack',
  'event',
  'presenceSnapshot',
  'presenceDiff',
  'feedEvent',
  'feedReset',
])

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data)
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data
}

/** A client connection; created by the server for each accepted WebSocket upgrade. */
export class Connection implements RoomPeer, HeartbeatTarget, OutboxOwner {
  /** Assigned when the hello is accepted; empty before. */
  connectionId = ''
  /** Secret the client presents in its next hello to resume this connection. */
  #resumeToken = ''
  /** Assigned when the hello is accepted; empty before. */
  userId = ''
  /** {@inheritDoc RoomPeer.protocol} */
  readonly protocol = 'native' as const
  /** When the last frame arrived, ms (read by the heartbeat). */
  lastSeen: number
  /** When the server last pinged, ms (read by the heartbeat). */
  lastPingAt: number

  readonly #ws: WebSocket
  readonly #upgrade: UpgradeContext
  readonly #deps: ConnectionDeps
  readonly #queue: SerialQueue<Frame>
  readonly #bucket: TokenBucket
  readonly #memberships = new Map<number, Membership>()
  /** Encoded frames (never batches) queued this turn, in send order; see {@link flushOutbox}. */
  #outbox: Uint8Array[] = []
  #user: AuthenticatedUser | undefined
  #state: ConnectionState = 'hello'
  #helloTimer: TimerHandle | undefined
  #terminateTimer: TimerHandle | undefined

  constructor(ws: WebSocket, upgrade: UpgradeContext, deps: ConnectionDeps) {
    this.#ws = ws
    this.#upgrade = upgrade
    this.#deps = deps
    const now = deps.now()
    this.lastSeen = now
    this.lastPingAt = now
    const { framesPerSecond, burst } = deps.options.rateLimit
    this.#bucket = createTokenBucket(framesPerSecond, burst, now)
    this.#queue = new SerialQueue(
      (frame) => this.#handle(frame),
      (error) => this.#fail(error),
    )
    this.#helloTimer = deps.timers.timeout(
      () => this.close(CloseCode.Timeout, 'no accepted hello within helloTimeoutMs'),
      deps.options.helloTimeoutMs,
    )
    ws.on('message', (data, isBinary) => this.#onMessage(data, isBinary))
    ws.on('close', (code) => this.#teardown(code))
    // ws reports protocol violations (e.g. a message over maxPayload) as an error and then
    // closes the socket itself (1009, 1002…). It stops reading, so the peer's close frame is
    // never seen and the close event reports 1006: release here, so the presence of a peer that
    // broke the protocol goes at once instead of being held for a resume.
    ws.on('error', () => this.#violated())
  }

  /** Where the connection is in its life. */
  get state(): ConnectionState {
    return this.#state
  }

  /**
   * Queues one encoded frame (not a batch) if the socket is open. Everything queued in one
   * event-loop turn goes out at its end as ONE message ({@link flushOutbox}), in queue order.
   */
  send(bytes: Uint8Array): void {
    if (this.#state !== 'open') return
    if (this.#outbox.length === 0) this.#deps.flusher.schedule(this)
    this.#outbox.push(bytes)
  }

  /** Encodes and queues one frame. */
  sendFrame(frame: Frame): void {
    this.send(encodeFrame(frame))
  }

  /** {@inheritDoc TickRecipient.sendTick} */
  sendTick(frames: Uint8Array[]): void {
    for (const frame of frames) this.send(frame)
  }

  /**
   * Writes the queued frames as one message (a batch when there are several); closes a
   * consumer that cannot keep up. Called by the server's flusher at the end of each turn, and
   * by {@link close} so frames queued before it precede the close frame.
   */
  flushOutbox(): void {
    const frames = this.#outbox
    if (frames.length === 0) return
    this.#outbox = []
    if (this.#state !== 'open' || this.#ws.readyState !== WebSocket.OPEN) return
    if (this.#ws.bufferedAmount > limits.maxBufferedBytes) {
      this.close(CloseCode.TryAgainLater, 'send buffer full: client too slow')
      return
    }
    this.#ws.send(frames.length === 1 ? (frames[0] as Uint8Array) : encodeBatch(frames))
  }

  /** {@inheritDoc HeartbeatTarget.ping} */
  ping(id: number): void {
    this.lastPingAt = this.#deps.now()
    this.sendFrame({ type: 'ping', id })
  }

  /** {@inheritDoc HeartbeatTarget.timeOut} */
  timeOut(): void {
    this.close(CloseCode.Timeout, 'no frame within presenceTimeoutMs')
  }

  /**
   * Leaves all rooms at once, sends a close frame and terminates the socket if the peer does
   * not complete the close handshake within a second (a blackholed peer never does).
   */
  close(code: number, reason: string): void {
    if (this.#state === 'closing' || this.#state === 'closed') return
    // What was sent before the close goes out before the close frame (a flush that finds the
    // send buffer full closes the socket itself).
    this.flushOutbox()
    if (this.#ending()) return
    this.#state = 'closing'
    this.#release('remove')
    this.#terminateTimer = closeWithGrace(this.#ws, code, reason, this.#deps.timers)
  }

  /** Whether the connection is closing or closed (a re-check the compiler cannot narrow away). */
  #ending(): boolean {
    return this.#state === 'closing' || this.#state === 'closed'
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    if (this.#state === 'closing' || this.#state === 'closed') return
    const now = this.#deps.now()
    this.lastSeen = now
    // One token before decoding so a flood costs no decoding work; the rest after unbatching.
    if (!takeTokens(this.#bucket, 1, now)) {
      this.close(CloseCode.RateLimited, 'rate limit exceeded')
      return
    }
    if (!isBinary) {
      this.close(CloseCode.MalformedFrame, 'binary frames only')
      return
    }
    let frames: Frame[]
    try {
      frames = unbatch(decodeFrame(toBytes(data)))
    } catch (error) {
      const message = error instanceof ProtocolError ? error.message : 'undecodable frame'
      this.close(CloseCode.MalformedFrame, message)
      return
    }
    if (frames.length > 1 && !takeTokens(this.#bucket, frames.length - 1, now)) {
      this.close(CloseCode.RateLimited, 'rate limit exceeded')
      return
    }
    for (const frame of frames) this.#queue.push(frame)
  }

  #handle(frame: Frame): void | Promise<void> {
    if (this.#state === 'closing' || this.#state === 'closed') return
    if (this.#state === 'hello') {
      if (frame.type !== 'hello') {
        this.close(CloseCode.MalformedFrame, `expected hello as the first frame, got ${frame.type}`)
        return
      }
      return this.#hello(frame)
    }
    switch (frame.type) {
      case 'hello':
        this.close(CloseCode.MalformedFrame, 'hello sent twice')
        return
      case 'join':
        return this.#join(frame)
      case 'leave': {
        const membership = this.#membership(frame.handle)
        if (membership === undefined) return
        this.#memberships.delete(frame.handle)
        membership.room.leave(membership)
        return
      }
      case 'broadcast':
        this.#broadcast(frame)
        return
      case 'ping':
        this.sendFrame({ type: 'pong', id: frame.id })
        return
      case 'pong':
        // lastSeen was refreshed on receipt; nothing else to do.
        return
      case 'presence':
        this.#presence(frame)
        return
      case 'presenceResync': {
        const membership = this.#membership(frame.handle)
        if (membership !== undefined) this.send(membership.room.snapshot(frame.handle))
        return
      }
      case 'doc':
        return this.#doc(frame)
      case 'awareness':
        if (this.#membership(frame.handle) === undefined) return
        this.sendFrame({
          type: 'error',
          handle: frame.handle,
          code: 'unsupported',
          message: `${frame.type} frames are not supported by this server yet`,
        })
        return
      case 'subscribe':
      case 'unsubscribe':
        this.sendFrame({
          type: 'error',
          handle: 0,
          code: 'unsupported',
          message: `${frame.type} frames are not supported by this server yet`,
        })
        return
      default:
        if (serverOnlyFrames.has(frame.type)) {
          this.close(CloseCode.MalformedFrame, `${frame.type} frames are sent by servers only`)
        } else {
          this.close(CloseCode.MalformedFrame, `unexpected ${frame.type} frame`)
        }
    }
  }

  #hello(frame: HelloFrame): void | Promise<void> {
    if (frame.version !== PROTOCOL_VERSION) {
      this.close(
        CloseCode.ProtocolVersion,
        `client speaks protocol version ${frame.version}, server speaks ${PROTOCOL_VERSION}`,
      )
      return
    }
    if (this.#upgrade.user !== undefined) {
      this.#accept(this.#upgrade.user, frame.resume)
      return
    }
    const { authenticate } = this.#deps.options
    if (authenticate === undefined) {
      const known = this.#deps.recent.lookup(frame.resume, this.#deps.now())
      this.#accept({ userId: known?.userId ?? createAnonymousUserId() }, frame.resume)
      return
    }
    this.#state = 'authenticating'
    const request = {
      headers: this.#upgrade.headers,
      phase: 'hello' as const,
      ...(frame.token !== undefined && { token: frame.token }),
      ...(this.#upgrade.origin !== undefined && { origin: this.#upgrade.origin }),
    }
    return runAuthenticate(authenticate, request).then((outcome) => {
      if (this.#state !== 'authenticating') return
      if (outcome.kind === 'accepted') this.#accept(outcome.user, frame.resume)
      else {
        const reason = outcome.kind === 'refused' ? outcome.reason : 'authentication failed'
        this.close(CloseCode.Unauthorized, reason)
      }
    })
  }

  #accept(user: AuthenticatedUser, resume: string | undefined): void {
    this.#deps.timers.clear(this.#helloTimer)
    this.#helloTimer = undefined
    this.#user = user
    this.userId = user.userId
    const now = this.#deps.now()
    const previous = this.#deps.recent.lookup(resume, now)
    if (resume !== undefined && previous !== undefined) this.#deps.recent.forget(resume)
    this.connectionId = this.#resumedId(previous) ?? createConnectionId()
    this.#deps.live.set(this.connectionId, this)
    this.#resumeToken = createResumeToken()
    this.#deps.recent.remember(this.#resumeToken, this.connectionId, this.userId, now)
    this.#state = 'open'
    this.lastSeen = now
    this.lastPingAt = now
    this.sendFrame({
      type: 'welcome',
      version: PROTOCOL_VERSION,
      connectionId: this.connectionId,
      userId: this.userId,
      pingIntervalMs: this.#deps.options.pingIntervalMs,
      maxPayloadBytes: this.#deps.options.maxPayloadBytes,
      resumeToken: this.#resumeToken,
    })
  }

  /**
   * The connectionId to take over on `hello.resume`, if allowed: the resume token (a secret only
   * the previous connection's client received) names a connection of the same user, which either
   * dropped uncleanly within presenceGraceMs (its presence is still held, so the others see no
   * change) or is still open as far as the server knows (the network changed faster than the
   * heartbeat), in which case the old socket is displaced.
   */
  #resumedId(previous: RecentConnection | undefined): string | undefined {
    if (previous === undefined || previous.userId !== this.userId) return undefined
    const live = this.#deps.live.get(previous.connectionId)
    if (live !== undefined) {
      if (live.userId !== this.userId) return undefined
      live.supersede()
    }
    return this.#deps.departures.claim(previous.connectionId, this.userId)
      ? previous.connectionId
      : undefined
  }

  /** Ends this connection as if it had dropped: presence held for a resume, socket dropped. */
  supersede(): void {
    if (this.#state === 'closing' || this.#state === 'closed') return
    this.#state = 'closing'
    this.#release('hold')
    this.#ws.terminate()
  }

  /** The membership addressed by `handle`, or an `unknown_room` error sent back. */
  #membership(handle: number): Membership | undefined {
    const membership = this.#memberships.get(handle)
    if (membership === undefined) {
      // Not fatal: a frame can legitimately race with the client's own leave.
      this.sendFrame({
        type: 'error',
        handle,
        code: 'unknown_room',
        message: `no room is joined with handle ${handle}`,
      })
    }
    return membership
  }

  #deny(handle: number, code: string, reason: string): void {
    this.sendFrame({ type: 'denied', handle, code, reason })
  }

  #join(frame: JoinFrame): void | Promise<void> {
    if (this.#memberships.has(frame.handle)) {
      this.sendFrame({
        type: 'error',
        handle: frame.handle,
        code: 'handle_in_use',
        message: `handle ${frame.handle} already addresses a room; leave it first`,
      })
      return
    }
    if (frame.handle === 0) {
      this.#deny(0, 'invalid_handle', 'handle 0 is reserved for the connection itself')
      return
    }
    const problem = roomNameProblem(frame.room)
    if (problem !== undefined) {
      this.#deny(frame.handle, 'invalid_room', problem)
      return
    }
    const presence = this.#checkPresence(frame.presence ?? {})
    if (!presence.ok) {
      this.#deny(frame.handle, 'invalid_presence', presence.reason)
      return
    }
    if (this.#deps.rooms.get(frame.room)?.has(this.connectionId)) {
      this.#deny(frame.handle, 'already_joined', `room "${frame.room}" is joined on another handle`)
      return
    }
    const rooms = this.#user?.rooms
    if (rooms === undefined) return this.#enter(frame, 'write', presence)
    let access: RoomAccess | Promise<RoomAccess>
    try {
      access = rooms(frame.room)
    } catch (error) {
      this.#accessError(frame, error)
      return
    }
    if (!(access instanceof Promise)) return this.#enter(frame, access, presence)
    return access.then(
      (resolved) => this.#enter(frame, resolved, presence),
      (error: unknown) => this.#accessError(frame, error),
    )
  }

  #accessError(frame: JoinFrame, error: unknown): void {
    if (this.#state !== 'open') return
    this.#deps.options.logger.warn(`syncline: rooms("${frame.room}") threw`, error)
    this.#deny(frame.handle, 'error', 'the permission check failed')
  }

  #enter(frame: JoinFrame, access: RoomAccess, presence: PresenceValue): void | Promise<void> {
    // The socket may have closed while an async permission check ran.
    if (this.#state !== 'open') return
    if (access === false) {
      this.#deny(frame.handle, 'forbidden', `not allowed to join room "${frame.room}"`)
      return
    }
    if (access !== 'write' && access !== 'read') {
      this.#deps.options.logger.error(
        `syncline: rooms("${frame.room}") returned ${String(access)}; expected 'write', 'read' or false`,
      )
      this.#deny(frame.handle, 'error', 'the permission check failed')
      return
    }
    const room = this.#deps.rooms.acquire(frame.room)
    if (!frame.doc || room.documentLoaded) {
      this.#joinRoom(room, frame, access, presence)
      return
    }
    // The document is loaded before the join is confirmed, so the client's sync step 1 is
    // answered from the stored state (never "synced" against an empty doc). The reservation
    // keeps the room alive meanwhile; concurrent joins share one load.
    room.reserve()
    return (room.loadDocument() ?? Promise.resolve()).then(
      () => {
        try {
          if (this.#state === 'open') this.#joinRoom(room, frame, access, presence)
        } finally {
          room.release()
        }
      },
      () => {
        room.release()
        if (this.#state !== 'open') return
        this.#deny(
          frame.handle,
          'load_failed',
          `the document of room "${frame.room}" could not be loaded; try again later`,
        )
      },
    )
  }

  #joinRoom(room: Room, frame: JoinFrame, access: Access, presence: PresenceValue): void {
    const membership = room.join(this, frame.handle, access, presence, frame.doc)
    this.#memberships.set(frame.handle, membership)
    // Queued together, so one message: the client never sees the room without its snapshot.
    this.sendFrame({ type: 'joined', handle: frame.handle, access })
    this.send(room.snapshot(frame.handle))
  }

  /**
   * A `doc` frame: the first one on a membership joined without the document loads it (the
   * frame waits, like every later frame of this connection); then the sync message is handled.
   */
  #doc(frame: DocFrame): void | Promise<void> {
    const membership = this.#membership(frame.handle)
    if (membership === undefined) return
    const loading = membership.room.useDocument(membership)
    if (loading === undefined) {
      this.#sync(membership, frame)
      return
    }
    return loading.then(
      () => this.#sync(membership, frame),
      () => {
        if (this.#state !== 'open') return
        this.sendFrame({
          type: 'error',
          handle: frame.handle,
          code: 'load_failed',
          message: `the document of room "${membership.room.name}" could not be loaded; send again to retry`,
        })
      },
    )
  }

  #sync(membership: Membership, frame: DocFrame): void {
    if (this.#state !== 'open' || this.#memberships.get(frame.handle) !== membership) return
    if (!membership.document) return
    // Acked once applied (at the end of the room's window for writes, so the ack shares the
    // relay's message) and for dropped writes too, so a read-only client's pending writes settle.
    const ack =
      frame.seq > 0
        ? () => this.sendFrame({ type: 'ack', handle: frame.handle, seq: frame.seq })
        : undefined
    let outcome: ReturnType<Room['receiveSync']>
    try {
      outcome = membership.room.receiveSync(membership, frame.message, true, ack)
    } catch (error) {
      if (!(error instanceof MalformedSyncMessageError)) throw error
      this.close(CloseCode.MalformedFrame, error.message)
      return
    }
    // Queued in this turn's outbox, so replies, error and ack go out as one message.
    for (const message of outcome.replies) {
      this.sendFrame({ type: 'doc', handle: frame.handle, seq: 0, message })
    }
    if (outcome.readOnlyDropped) {
      this.sendFrame({
        type: 'error',
        handle: frame.handle,
        code: 'read_only',
        message: 'read-only members cannot change the document; the update was dropped',
      })
    }
    if (!outcome.deferred) ack?.()
  }

  #checkPresence(value: unknown):
    | { ok: true; value: unknown; json: string }
    | {
        ok: false
        reason: string
      } {
    const checked = validatePresence(value, this.#deps.options.maxPresenceBytes)
    return checked.ok ? { ok: true, value, json: checked.json } : checked
  }

  #presence(frame: PresenceFrame): void {
    const membership = this.#membership(frame.handle)
    if (membership === undefined) return
    const presence = this.#checkPresence(frame.presence)
    if (!presence.ok) {
      this.sendFrame({
        type: 'error',
        handle: frame.handle,
        code: 'invalid_presence',
        message: presence.reason,
      })
      return
    }
    membership.room.setPresence(membership, presence)
  }

  #broadcast(frame: BroadcastFrame): void {
    const membership = this.#membership(frame.handle)
    if (membership === undefined) return
    if (membership.access !== 'write') {
      this.sendFrame({
        type: 'error',
        handle: frame.handle,
        code: 'read_only',
        message: 'read-only members cannot broadcast',
      })
      return
    }
    membership.room.broadcast(membership, frame)
  }

  /** An unexpected exception in frame handling: a bug, not bad input. Close only this socket. */
  #fail(error: unknown): void {
    this.#deps.options.logger.error('syncline: internal error while handling a frame', error)
    this.close(CloseCode.InternalError, 'internal error')
  }

  /**
   * Leaves every room (or holds the presence there for a resume) and stops processing frames;
   * safe to call more than once: only the first call acts on the memberships.
   */
  #release(departure: Departure): void {
    this.#queue.dispose()
    this.#outbox = []
    this.#deps.flusher.cancel(this)
    this.#deps.timers.clear(this.#helloTimer)
    this.#helloTimer = undefined
    if (this.#deps.live.get(this.connectionId) === this) this.#deps.live.delete(this.connectionId)
    const memberships = [...this.#memberships.values()]
    this.#memberships.clear()
    if (departure === 'remove' || memberships.length === 0) {
      for (const membership of memberships) membership.room.leave(membership)
      return
    }
    const token = {}
    for (const membership of memberships) membership.room.hold(membership, token)
    const { connectionId } = this
    this.#deps.departures.hold(connectionId, this.userId, () => {
      for (const { room } of memberships) room.releaseHold(connectionId, token)
    })
  }

  #violated(): void {
    if (this.#state === 'closing' || this.#state === 'closed') return
    this.#state = 'closing'
    this.#release('remove')
    this.#terminateTimer = this.#deps.timers.timeout(
      () => this.#ws.terminate(),
      limits.closeGraceMs,
    )
  }

  #teardown(code: number): void {
    if (this.#state === 'closed') return
    this.#state = 'closed'
    // 1006: the socket ended without a close frame. The client may be back in a moment.
    this.#release(code === CloseCode.Abnormal ? 'hold' : 'remove')
    this.#deps.timers.clear(this.#terminateTimer)
    this.#terminateTimer = undefined
    if (this.#resumeToken !== '') {
      this.#deps.recent.remember(
        this.#resumeToken,
        this.connectionId,
        this.userId,
        this.#deps.now(),
      )
    }
    this.#deps.onClosed(this)
  }
}
