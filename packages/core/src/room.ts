// What a user holds after `client.join()`: the room's observable state and its verbs. The
// transport (handles, join frames, the offline queue) lives in roomRegistry.ts; a Room only
// turns verbs into intents and frames into state, so it stays testable on its own. The
// document (a Y.Doc with its DocSync and Awareness) is created only when asked for, so rooms
// used for presence and broadcasts alone never pay for Yjs.
import type {
  Access,
  EventFrame,
  PresenceDiffFrame,
  PresenceSnapshotFrame,
} from '@syncline/protocol'
import EventEmitter from 'eventemitter3'
import { atom, batch, type ReadableAtom } from 'nanostores'
import type { Awareness } from 'y-protocols/awareness'
import * as Y from 'yjs'
import { backoffDelay } from './backoff'
import { DEFAULT_DOC_LOAD_RETRY } from './defaults'
import { type DocLink, DocSync } from './docSync'
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
import { PresenceAwareness } from './presenceAwareness'
import { type Throttled, throttle } from './throttle'
import {
  createUndoManager,
  type UndoManager,
  type UndoManagerOptions,
  type UndoScope,
} from './undo'

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
  /**
   * A link that sends `doc` frames directly on the room's current handle and socket (never
   * through the offline queue); it throws once that handle is gone.
   */
  docLink(room: Room): DocLink
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

  #doc: Y.Doc | null = null
  #sync: DocSync | null = null
  /** Pending retry of a failed document load, and how many came before it. */
  #docRetryTimer: ReturnType<typeof setTimeout> | undefined
  #docRetries = 0
  /** A join frame is out on the current connection (joined or not yet answered). */
  #joinSent = false
  #awareness: PresenceAwareness | null = null
  readonly #hasPendingWrites = atom(false)
  readonly #undoManagers = new Set<UndoManager>()
  /** Unsubscribers of the document's atoms and of the awareness mirroring. */
  #docListeners: (() => void)[] = []

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
   * The room's Y.Doc, kept in sync with the server. Created on first access (or by
   * `client.join(name, { doc: true })`); rooms that never touch it never create one. From then
   * on every join and rejoin asks for the document, and `status` reaches `synced` only once the
   * server has sent its state and acknowledged every local edit made before.
   *
   * Accessed for the first time while the room is already joined, it sends sync step 1 on the
   * current handle at once instead of re-joining (a re-join would make the others see a leave):
   * the server treats a `doc` frame on a handle joined without the document flag as a request
   * for the document. `status` goes back to `syncing` until that exchange completes.
   *
   * Edits made offline stay in the doc and reach the server merged into one update during the
   * next connection's state-vector exchange. The doc is destroyed when the room is left.
   */
  get doc(): Y.Doc {
    if (this.#doc !== null) return this.#doc
    this.#assertOpen('create the document')
    return this.#createDoc()
  }

  /**
   * A y-protocols Awareness on {@link doc}, mirroring presence, for editor bindings
   * (y-prosemirror, y-codemirror.next, y-monaco). The local state IS this connection's presence:
   * `awareness.setLocalStateField('cursor', c)` sends presence (throttled) like
   * `updatePresence({ cursor: c })`, and `updatePresence` shows up as the local state. Every
   * connection of `others` appears in `getStates()` under a clientID derived from its
   * connectionId, with `change`/`update` events (origin `remoteOrigin`). No awareness frames
   * travel: presence is the wire format, and liveness is the server's presence timeout, so the
   * Awareness' own 30 s expiry timer is switched off. Creates the doc if needed.
   */
  get awareness(): Awareness {
    if (this.#awareness !== null) return this.#awareness.awareness
    const doc = this.doc
    this.#assertOpen('create the awareness')
    const bridge = new PresenceAwareness(
      doc,
      {
        setPresence: (presence) => this.#replacePresence(presence),
        isOpen: () => !this.closed,
        onError: (error) =>
          this.#emitter.emit(
            'error',
            error instanceof SynclineError
              ? error
              : new SynclineError('invalid_argument', String(error), { cause: error }),
          ),
      },
      this.#localPresence,
    )
    this.#awareness = bridge
    this.#docListeners.push(
      this.#self.subscribe((self) => bridge.setLocal(self.presence)),
      this.#others.subscribe((others) =>
        bridge.setRemote(others.flatMap((peer) => peer.connections)),
      ),
    )
    return bridge.awareness
  }

  /**
   * True while local document edits are not yet acknowledged by the server (also while offline
   * with edits waiting). Always false for a room without a document. Use it for "saving…"
   * indicators and to warn before unload; unlike `status`, it reacts to every edit.
   */
  get hasPendingWrites(): ReadableAtom<boolean> {
    return this.#hasPendingWrites
  }

  /**
   * An undo manager over `scope` (default: the whole {@link doc}) that only undoes this user's
   * edits, never a collaborator's; see `createUndoManager`. Destroyed with the room.
   */
  undoManager(scope?: UndoScope, options?: UndoManagerOptions): UndoManager {
    this.#assertOpen('create an undo manager')
    const manager = createUndoManager(scope ?? this.doc, options)
    const destroy = manager.destroy
    this.#undoManagers.add(manager)
    manager.destroy = () => {
      this.#undoManagers.delete(manager)
      destroy()
    }
    return manager
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

  /** Gates this room waits for after `joined`: the document only once the room has one. */
  #requiredGates(): SyncGate[] {
    return this.#sync === null ? ['presence'] : ['presence', 'doc']
  }

  /** Whether join frames must ask for the document. @internal */
  _hasDoc(): boolean {
    return this.#doc !== null
  }

  /** `client.join(name, { doc: true })`: create the document before the join goes out. @internal */
  _ensureDoc(): void {
    if (!this.closed) void this.doc
  }

  /** A `doc` frame (y-protocols sync message) arrived. @internal */
  _docMessage(message: Uint8Array): void {
    this.#sync?.receive(message)
  }

  /** The server applied our `doc` frame `seq`. @internal */
  _ack(seq: number): void {
    this.#sync?.ack(seq)
  }

  /** The presence a join frame announces: the current local one. @internal */
  _joinPresence(): P {
    return this.#localPresence
  }

  /** A join frame went out on a new socket. @internal */
  _joinSent(): void {
    this.#joined = false
    this.#joinSent = true
    this.#passedGates.clear()
    // The previous handle is dead: what was in flight on it travels with the next exchange.
    this.#sync?.disconnect()
    // Sync step 1 follows the join at once instead of waiting for `joined`: the server handles
    // a connection's frames in order (after the join and its document load), so this saves a
    // round trip on every (re)join. A denied join makes the server drop it.
    this.#sync?.connect(this.#transport.docLink(this))
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
    // Sync step 1 went out with the join; the 'doc' gate passes when DocSync is synced.
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
    this.#joinSent = false
    this.#error.set(error)
    this.#status.set('denied')
    this.#dispose()
  }

  /** The socket went away; the registry will rejoin. @internal */
  _disconnected(): void {
    this.#joinSent = false
    if (this.closed) return
    const wasJoined = this.#joined || this.#status.get() !== 'joining'
    this.#joined = false
    this.#cancelDocRetry()
    this.#sync?.disconnect()
    if (wasJoined) this.#status.set('reconnecting')
  }

  /** The last holder left (or the client was destroyed). @internal */
  _left(): void {
    this.#joined = false
    this.#joinSent = false
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
    if (error.details?.code === 'load_failed') this.#scheduleDocRetry()
    this.#emitter.emit('error', error)
  }

  /**
   * The server could not load the document this room asked for after joining (the join itself
   * succeeded, so nothing else will ask again until a reconnect): ask again with backoff, on
   * the same handle, until it loads or the room is left or disconnected.
   */
  #scheduleDocRetry(): void {
    if (this.closed || this.#sync === null || !this.#joined) return
    clearTimeout(this.#docRetryTimer)
    const delay = backoffDelay(this.#docRetries++, DEFAULT_DOC_LOAD_RETRY)
    this.#docRetryTimer = setTimeout(() => {
      this.#docRetryTimer = undefined
      if (this.closed || this.#sync === null || !this.#joined) return
      this.#sync.disconnect()
      this.#sync.connect(this.#transport.docLink(this))
    }, delay)
  }

  #cancelDocRetry(): void {
    clearTimeout(this.#docRetryTimer)
    this.#docRetryTimer = undefined
  }

  #updateSyncStatus(): void {
    this.#status.set(this.#pendingGates.size === 0 ? 'synced' : 'syncing')
  }

  #createDoc(): Y.Doc {
    const doc = new Y.Doc()
    const sync = new DocSync(doc, {
      ownsDoc: true,
      onError: (error) => this.#emitter.emit('error', error),
    })
    this.#doc = doc
    this.#sync = sync
    this.#docListeners.push(
      sync.hasPendingWrites.subscribe((pending) => this.#hasPendingWrites.set(pending)),
      sync.synced.listen((synced) => {
        // Only the first sync after a join counts: later edits show in hasPendingWrites, not status.
        if (!synced) return
        this.#docRetries = 0
        this._gatePassed('doc')
      }),
    )
    if (this.#joined) {
      // Already joined without the document: ask for it on this handle (see `doc`).
      this.#passedGates.delete('doc')
      this.#pendingGates.add('doc')
      this.#updateSyncStatus()
      sync.connect(this.#transport.docLink(this))
    } else if (this.#joinSent) {
      // The join is on its way without the flag: step 1 behind it asks for the document.
      sync.connect(this.#transport.docLink(this))
    }
    return doc
  }

  /** The awareness replaced its local state: make it the presence (keys it lacks are removed). */
  #replacePresence(presence: Record<string, unknown>): void {
    const patch: Record<string, unknown> = { ...presence }
    for (const key of Object.keys(this.#localPresence)) {
      if (!Object.hasOwn(presence, key)) patch[key] = undefined
    }
    this.updatePresence(patch as Partial<P>)
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
    this.#cancelDocRetry()
    for (const stop of this.#docListeners) stop()
    this.#docListeners = []
    for (const manager of [...this.#undoManagers]) manager.destroy()
    this.#awareness?.destroy()
    // ownsDoc: destroys the Y.Doc too; nothing of the document outlives the room.
    this.#sync?.destroy()
    this.#others.set([])
    this.#emitter.removeAllListeners()
  }
}
