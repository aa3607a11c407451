// What a user holds after `client.join()`: the room's observable state and its verbs. The
// transport (handles, join frames, the offline queue) lives in roomRegistry.ts; a Room only
// turns verbs into intents and frames into state, so it stays testable on its own.
import type {
  Access,
  EventFrame,
  PresenceDiffFrame,
  PresenceSnapshotFrame,
} from '@syncline/protocol'
import EventEmitter from 'eventemitter3'
import { atom, batch, type ReadableAtom } from 'nanostores'
import { SynclineError } from './errors'
import { isPlainJsonObject, toJson } from './options'
import {
  applyDiff,
  applySnapshot,
  initialPresenceState,
  othersOf,
  type Peer,
  type PresenceState,
  resetPresenceState,
  selfOf,
  stabilizePeers,
} from './presence'
import { type Throttled, throttle } from './throttle'

/** Room state. `synced`: join confirmed and every gate (presence snapshot, document) passed. */
export type RoomStatus = 'joining' | 'syncing' | 'synced' | 'reconnecting' | 'left' | 'denied'

/** Why a room was denied or failed, from the server's `denied` frame. */
export interface RoomError {
  code: string
  reason: string
}

/** A broadcast received from another member of the room. */
export interface RoomEventMessage {
  event: string
  payload: unknown
  userId: string
  connectionId: string
}

/** Events of a room (`room.on(...)`). */
export interface RoomEvents {
  /** A broadcast from another member. */
  event: (message: RoomEventMessage) => void
  /** The server reported an error about this room (e.g. invalid presence); the room stays usable. */
  error: (error: SynclineError) => void
}

/** Something a room wants sent; encoded only when sent, because handles change per connection. */
export type RoomIntent =
  | { kind: 'broadcast'; event: string; payload: unknown; bytes: number }
  | { kind: 'presence'; presence: Record<string, unknown>; bytes: number }

/** Things that must complete after `joined` before a room is `synced`. */
export type SyncGate = 'presence' | 'doc'

/** What a room needs from its registry. @internal */
export interface RoomTransport {
  /** Sends now if the room is joined on an open socket, otherwise queues. */
  send(room: Room, intent: RoomIntent): void
  /** One holder let go of the room. */
  release(room: Room): void
  /** Largest frame the server accepts. */
  maxPayloadBytes(): number
  /** Asks the server for a new presence snapshot (only if joined on an open socket). */
  resync(room: Room): void
  /** Who this client is on the current connection. */
  identity(): { userId: string | null; connectionId: string | null }
}

/** How a room is set up at join. @internal */
export interface RoomSetup {
  presence: Record<string, unknown> | undefined
  presenceThrottleMs: number
}

/** Presence as users see it: a JSON object. */
export type Presence = Record<string, unknown>

const textEncoder = new TextEncoder()

function utf8Length(text: string): number {
  return textEncoder.encode(text).byteLength
}

/** A joined room: status, broadcasts and presence. */
export class Room<P extends Presence = Presence> {
  /** The room's name, as passed to `client.join`. */
  readonly name: string
  readonly #transport: RoomTransport
  readonly #emitter = new EventEmitter<RoomEvents>()
  readonly #status = atom<RoomStatus>('joining')
  readonly #error = atom<RoomError | null>(null)
  readonly #access = atom<Access | null>(null)
  /** Gates still closed since the last `joined`. */
  readonly #pendingGates = new Set<SyncGate>()
  /** Gates passed since the last join was sent (a gate may pass before `joined` is handled). */
  readonly #passedGates = new Set<SyncGate>()
  #joined = false

  #localPresence: P
  #presenceState: PresenceState = initialPresenceState()
  readonly #self: ReturnType<typeof atom<Peer<P>>>
  readonly #others = atom<Peer<P>[]>([])
  readonly #sendPresence: Throttled<[]>

  /** @internal Created by the registry; use `client.join`. */
  constructor(name: string, transport: RoomTransport, setup: RoomSetup) {
    this.name = name
    this.#transport = transport
    this.#localPresence = (setup.presence ?? {}) as P
    this.#self = atom(this.#computeSelf())
    // Leading + trailing: the first move goes out at once, the last one always arrives.
    this.#sendPresence = throttle(() => this.#flushPresence(), setup.presenceThrottleMs)
  }

  /** You: this connection's presence (updated locally at once) and your other connections. */
  get self(): ReadableAtom<Peer<P>> {
    return this.#self
  }

  /**
   * Everyone else, one entry per user (your own other tabs are in `self.connections`, not
   * here), in first-seen order. The array only changes identity when its content changes, and
   * it is kept during a short reconnect instead of flashing empty.
   */
  get others(): ReadableAtom<Peer<P>[]> {
    return this.#others
  }

  /**
   * Shallow-merges `patch` into your presence (a key set to `undefined` is removed). `self`
   * updates at once; the server gets the whole object, throttled (leading + trailing, so the
   * last value always arrives). While disconnected only the latest value is kept.
   */
  updatePresence(patch: Partial<P>): void {
    this.#assertOpen('updatePresence')
    if (!isPlainJsonObject(patch)) {
      throw new SynclineError(
        'invalid_argument',
        'updatePresence(patch): patch must be a plain JSON object such as { cursor: { x: 1, y: 2 } }.',
      )
    }
    const next: Record<string, unknown> = { ...this.#localPresence }
    for (const [key, value] of Object.entries(patch)) {
      if (value === undefined) delete next[key]
      else next[key] = value
    }
    const json = toJson('presence', next)
    const bytes = utf8Length(json) + 16
    const limit = this.#transport.maxPayloadBytes()
    if (bytes > limit) {
      throw new SynclineError(
        'payload_too_large',
        `Presence of about ${bytes} bytes exceeds the server's maxPayloadBytes (${limit}). Keep presence small; use broadcasts or the document for bulk data.`,
        { details: { bytes, limit } },
      )
    }
    this.#localPresence = next as P
    this.#self.set(this.#computeSelf())
    this.#sendPresence()
  }

  /** `joining` → `syncing` → `synced`; `reconnecting` after a drop; `left` or `denied` at the end. */
  get status(): ReadableAtom<RoomStatus> {
    return this.#status
  }

  /** Why the room was denied, or null. */
  get error(): ReadableAtom<RoomError | null> {
    return this.#error
  }

  /** Access granted by the server (`write` or `read`), null until joined. */
  get access(): ReadableAtom<Access | null> {
    return this.#access
  }

  /** Whether the room can no longer be used (`left` or `denied`). */
  get closed(): boolean {
    const status = this.#status.get()
    return status === 'left' || status === 'denied'
  }

  /**
   * Sends `event` with a JSON `payload` to the room's other members. While disconnected it is
   * queued and sent once after the room is joined again. Throws `invalid_argument` for a bad
   * event name or payload, `payload_too_large` above the server's `maxPayloadBytes`, and
   * `room_closed` after `leave()`.
   */
  broadcast(event: string, payload?: unknown): void {
    this.#assertOpen('broadcast')
    if (typeof event !== 'string' || event.length === 0) {
      throw new SynclineError(
        'invalid_argument',
        `broadcast(event, payload): event must be a non-empty string, got ${typeof event === 'string' ? '""' : typeof event}.`,
      )
    }
    const json = payload === undefined ? '' : toJson('broadcast payload', payload)
    // Tag, handle, two length prefixes: a few bytes on top of the strings themselves.
    const bytes = utf8Length(json) + utf8Length(event) + 16
    const limit = this.#transport.maxPayloadBytes()
    if (bytes > limit) {
      throw new SynclineError(
        'payload_too_large',
        `broadcast("${event}") is about ${bytes} bytes; the server accepts at most ${limit} (maxPayloadBytes). Send less data or split it.`,
        { details: { bytes, limit } },
      )
    }
    this.#transport.send(this, { kind: 'broadcast', event, payload, bytes })
  }

  /** Listens to a room event; returns the function that stops listening. */
  on<E extends keyof RoomEvents>(event: E, listener: RoomEvents[E]): () => void {
    this.#emitter.on(event, listener as never)
    return () => this.off(event, listener)
  }

  /** Listens to the next occurrence of a room event only. */
  once<E extends keyof RoomEvents>(event: E, listener: RoomEvents[E]): () => void {
    this.#emitter.once(event, listener as never)
    return () => this.off(event, listener)
  }

  /** Stops listening. */
  off<E extends keyof RoomEvents>(event: E, listener: RoomEvents[E]): void {
    this.#emitter.off(event, listener as never)
  }

  /**
   * Releases one hold on the room (`client.join` counts holders). The last release leaves it:
   * the server is told at once, queued traffic is dropped (and reported), status `left`.
   */
  leave(): void {
    this.#transport.release(this)
  }

  #assertOpen(verb: string): void {
    if (!this.closed) return
    throw new SynclineError(
      'room_closed',
      `Cannot ${verb} in room "${this.name}": it is ${this.#status.get()}. Join it again with client.join().`,
    )
  }

  // ---- Driven by the registry. ----

  /** Gates this room waits for after `joined`; the document gate joins this list later. */
  #requiredGates(): SyncGate[] {
    return ['presence']
  }

  /** The presence a join frame announces: the current local one. @internal */
  _joinPresence(): P {
    return this.#localPresence
  }

  /** A join frame went out on a new socket. @internal */
  _joinSent(): void {
    this.#joined = false
    this.#passedGates.clear()
    // The join carries the current presence: a pending throttled send would only repeat it.
    this.#sendPresence.cancel()
    // Diffs of the old connection mean nothing now; the list itself stays until the snapshot.
    this.#presenceState = resetPresenceState(this.#presenceState)
  }

  /** The server accepted the join. @internal */
  _joined(access: Access): void {
    this.#joined = true
    this.#access.set(access)
    this.#error.set(null)
    this.#pendingGates.clear()
    for (const gate of this.#requiredGates()) {
      if (!this.#passedGates.has(gate)) this.#pendingGates.add(gate)
    }
    batch(() => {
      // `welcome` (before `joined`) may have brought a new connection id.
      this.#self.set(this.#computeSelf())
      this.#updateSyncStatus()
    })
  }

  /** A gate passed (presence snapshot applied, document synced). @internal */
  _gatePassed(gate: SyncGate): void {
    this.#passedGates.add(gate)
    this.#pendingGates.delete(gate)
    if (this.#joined) this.#updateSyncStatus()
  }

  /** A presence snapshot or diff arrived. @internal */
  _presence(frame: PresenceSnapshotFrame | PresenceDiffFrame): void {
    const { state, outcome } =
      frame.type === 'presenceSnapshot'
        ? applySnapshot(this.#presenceState, frame)
        : applyDiff(this.#presenceState, frame)
    this.#presenceState = state
    if (outcome === 'resync') this.#transport.resync(this)
    if (outcome !== 'applied') return
    batch(() => {
      const { userId } = this.#transport.identity()
      this.#others.set(stabilizePeers(this.#others.get(), othersOf<P>(state, userId)))
      this.#self.set(this.#computeSelf())
      if (frame.type === 'presenceSnapshot') this._gatePassed('presence')
    })
  }

  /** The server refused the join. @internal */
  _denied(error: RoomError): void {
    this.#joined = false
    this.#error.set(error)
    this.#status.set('denied')
    this.#dispose()
  }

  /** The socket went away; the registry will rejoin. @internal */
  _disconnected(): void {
    if (this.closed) return
    const wasJoined = this.#joined || this.#status.get() !== 'joining'
    this.#joined = false
    if (wasJoined) this.#status.set('reconnecting')
  }

  /** The last holder left (or the client was destroyed). @internal */
  _left(): void {
    this.#joined = false
    this.#status.set('left')
    this.#dispose()
  }

  /** A broadcast from another member arrived. @internal */
  _event(frame: EventFrame): void {
    this.#emitter.emit('event', {
      event: frame.event,
      payload: frame.payload,
      userId: frame.userId,
      connectionId: frame.connectionId,
    })
  }

  /** The server reported an error for this room. @internal */
  _error(error: SynclineError): void {
    this.#emitter.emit('error', error)
  }

  #updateSyncStatus(): void {
    this.#status.set(this.#pendingGates.size === 0 ? 'synced' : 'syncing')
  }

  #flushPresence(): void {
    if (this.closed) return
    const presence = this.#localPresence
    const bytes = utf8Length(JSON.stringify(presence)) + 16
    this.#transport.send(this as Room, { kind: 'presence', presence, bytes })
  }

  #computeSelf(): Peer<P> {
    const { userId, connectionId } = this.#transport.identity()
    const next = selfOf<P>(this.#presenceState, userId, connectionId, this.#localPresence)
    const previous = this.#self?.get()
    return previous ? (stabilizePeers([previous], [next])[0] ?? next) : next
  }

  /** Releases listeners and timers; the atoms keep their last value for late readers. */
  #dispose(): void {
    this.#sendPresence.cancel()
    this.#others.set([])
    this.#emitter.removeAllListeners()
  }
}
