// A room on this server process: its local members (each addressed by its own handle), the
// room's presence (local and remote connections), its document (loaded from the store on first
// use, unloaded a while after the last member using it left) and its bus subscription. It lives
// while any of these is in use and disposes everything it owns after that.
import { type Access, type BroadcastFrame, CloseCode, encodeFrame } from '@syncline/protocol'
import { mergeUpdates } from 'yjs'
import { AwarenessBridge, type ReceivedAwareness } from './awarenessBridge'
import type { Bus } from './bus'
import { type BusMessage, decodeBusMessage, encodeBusMessage, roomTopic } from './busMessage'
import { limits } from './defaults'
import type { Logger } from './options'
import { type PresenceRecord, RoomPresence } from './presence'
import type { TickRecipient, TickSource } from './presenceTicker'
import { busOrigin, type RoomDocument } from './roomDocument'
import { type AddressedFrame, addressedFrame, addressedFrameFromBytes } from './roomFrame'
import { encodeSyncStep1, encodeSyncStep2, encodeSyncUpdate, parseSyncMessage } from './syncMessage'
import type { TimerHandle, TimerSet } from './timers'
import { encodeYjsSync } from './yjsMessage'

/**
 * The wire protocol a member speaks: `native` (the multiplexed Syncline protocol) or `yjs` (the
 * plain y-websocket protocol of `/yjs/<room>`: document sync and awareness only).
 */
export type PeerProtocol = 'native' | 'yjs'

/** What a room needs from a connection. */
export interface RoomPeer extends TickRecipient {
  readonly connectionId: string
  readonly userId: string
  readonly protocol: PeerProtocol
  /**
   * Sends one encoded frame to the peer (dropped if the socket is closing). Native connections
   * queue it and write all frames of the current event-loop turn as one message.
   */
  send(bytes: Uint8Array): void
  /** Closes the peer's socket with a close code and reason (e.g. a write Yjs could not apply). */
  close(code: number, reason: string): void
}

/** One connection's membership in one room. */
export interface Membership {
  readonly room: Room
  readonly peer: RoomPeer
  /** The number the peer chose to address this room with. */
  readonly handle: number
  readonly access: Access
  /** Whether the member uses the document (receives its updates). Set by the room only. */
  document: boolean
}

/** What {@link Room.receiveSync} did with a sync message. */
export interface SyncOutcome {
  /** Sync messages to send back to the member, in order. */
  replies: Uint8Array[]
  /** A write of a read-only member was dropped. */
  readOnlyDropped: boolean
  /**
   * The write waits for the end of the room's window to be applied; the `onApplied` passed to
   * {@link Room.receiveSync} is called then. `false`: there was nothing to apply.
   */
  deferred: boolean
}

/** A validated write waiting for the end of the window, with the member that sent it. */
interface PendingWrite {
  update: Uint8Array
  from: Membership
  onApplied: (() => void) | undefined
}

/** Loads and unloads documents for rooms (the registry), so loads and flushes can be awaited. */
export interface DocumentHost {
  /**
   * Creates and loads the document of `room` (after a previous unload of the same room has
   * flushed). Rejects when the store cannot be read; nothing is then left behind.
   */
  load(room: string, onUpdate: (update: Uint8Array, origin: unknown) => void): Promise<RoomDocument>
  /** Flushes and disposes a loaded document in the background. */
  unload(room: string, document: RoomDocument): void
}

/** A validated presence value with its JSON text. */
export interface PresenceValue {
  value: unknown
  json: string
}

/** What a room is given by its registry. */
export interface RoomContext {
  /**
   * The bus to other server processes; `undefined` when there can be none (the user passed no
   * bus, so the server's in-process bus has no other listener): nothing is then encoded,
   * published or subscribed.
   */
  bus: Bus | undefined
  /** This server process's id: bus messages from it are ignored (already delivered locally). */
  serverId: string
  logger: Logger
  now: () => number
  /** Remote presence not refreshed for this long is dropped (its server died). */
  presenceTimeoutMs: number
  /** Asks for `flushPresence` on the next presence tick. */
  schedule: (room: Room) => void
  /** Runs the presence tick now if it is overdue (the presence ticker's `catchUp`). */
  catchUpPresence: () => void
  /** Called once, after the room disposed itself. */
  onDispose: (room: Room) => void
  /** Owns the room's timers (the document unload delay). */
  timers: TimerSet
  /** How long the document stays loaded after its last member left. */
  documentUnloadDelayMs: number
  /** Longest wait of an applied update before it is relayed (merged with the window's others). */
  documentFlushMs: number
  documents: DocumentHost
}

/** A room with at least one local member or held presence. Created by the RoomRegistry. */
export class Room implements TickSource {
  /** The room's name, as clients join it. */
  readonly name: string
  readonly #context: RoomContext
  /** Members' writes received in the current window, applied together when it ends. */
  #pending: PendingWrite[] = []
  /** Document updates applied in the current window, and who sent them all (if one did). */
  #relay: { updates: Uint8Array[]; origin: unknown } = { updates: [], origin: undefined }
  /** Ends the current window; see {@link #scheduleWindow}. */
  #windowTimer: TimerHandle | undefined
  /** When the last window ended (ms). */
  #windowEndedAt = Number.NEGATIVE_INFINITY
  readonly #topic: string
  readonly #members = new Map<string, Membership>()
  readonly #presence = new RoomPresence()
  readonly #unsubscribe: () => void
  #lastRefreshAt: number
  #disposed = false
  /** The loaded document, if any. */
  #document: RoomDocument | undefined
  /** The one in-flight load every waiting join shares. */
  #documentLoad: Promise<void> | undefined
  /** Bus updates that arrived during the load, applied right after it. */
  #earlyUpdates: Uint8Array[] | undefined
  /** Local members with `document: true`. */
  #documentMembers = 0
  /** Joins waiting (for the document) that keep the room alive. */
  #reservations = 0
  #unloadTimer: TimerHandle | undefined
  /** Present while the room has y-websocket members. */
  #awareness: AwarenessBridge | undefined
  #yjsMembers = 0

  constructor(name: string, context: RoomContext) {
    this.name = name
    this.#context = context
    this.#topic = roomTopic(name)
    this.#lastRefreshAt = context.now()
    this.#unsubscribe =
      context.bus?.subscribe(this.#topic, (bytes) => this.#onBusMessage(bytes)) ?? (() => {})
    // Other servers announce their connections in this room in reply.
    this.#publish({ kind: 'presenceQuery', origin: context.serverId })
  }

  /** Local members. */
  get size(): number {
    return this.#members.size
  }

  /** Whether the room has been disposed (it then accepts no members). */
  get disposed(): boolean {
    return this.#disposed
  }

  /** Sequence number of the last presence diff. */
  get presenceSeq(): number {
    return this.#presence.seq
  }

  /** Whether the connection `connectionId` is a member here. */
  has(connectionId: string): boolean {
    return this.#members.has(connectionId)
  }

  /** Whether the document is loaded (a join wanting it needs no wait). */
  get documentLoaded(): boolean {
    return this.#document !== undefined
  }

  /**
   * Adds `peer` as a member addressed by `handle`, with its initial presence (none for
   * y-websocket members: their awareness clients become presence entries). If the peer's
   * connectionId still has held presence here (a resume), the entry is taken over silently.
   * With `document`, the document must be loaded ({@link loadDocument}).
   */
  join(
    peer: RoomPeer,
    handle: number,
    access: Access,
    presence: PresenceValue | undefined,
    document = false,
  ): Membership {
    if (this.#disposed) throw new Error(`room "${this.name}" is disposed`)
    if (document && this.#document === undefined) {
      throw new Error(`the document of room "${this.name}" is not loaded`)
    }
    const membership: Membership = { room: this, peer, handle, access, document: false }
    this.#members.set(peer.connectionId, membership)
    if (peer.protocol === 'yjs') {
      this.#yjsMembers += 1
      this.#awareness ??= new AwarenessBridge()
    }
    if (document) this.#useDocument(membership)
    if (presence !== undefined) this.#setLocal(peer.connectionId, peer.userId, presence)
    return membership
  }

  /**
   * Keeps the room (and a loaded document) alive for a join that is waiting, e.g. for the
   * document to load. Every call must be matched by one {@link release}.
   */
  reserve(): void {
    this.#reservations += 1
    this.#cancelUnload()
  }

  /** Ends a {@link reserve}; the room disposes itself if nothing else uses it. */
  release(): void {
    this.#reservations -= 1
    this.#disposeIfUnused()
  }

  /**
   * Loads the document from the store: `undefined` when it is loaded already, otherwise the
   * ONE in-flight load that every caller shares. Rejects when the store cannot be read; the
   * document is then discarded and the next call tries again. The caller keeps the room alive
   * meanwhile (a membership or a {@link reserve}).
   */
  loadDocument(): Promise<void> | undefined {
    if (this.#document !== undefined) return undefined
    if (this.#disposed) return Promise.reject(new Error(`room "${this.name}" is disposed`))
    this.#documentLoad ??= this.#startLoad()
    return this.#documentLoad
  }

  /**
   * Makes an existing member use the document (its first `doc` frame), loading it first if
   * needed: `undefined` when done synchronously, otherwise a promise that rejects if the load
   * failed.
   */
  useDocument(membership: Membership): Promise<void> | undefined {
    if (membership.document) return undefined
    const loading = this.loadDocument()
    if (loading === undefined) {
      this.#useDocument(membership)
      return undefined
    }
    return loading.then(() => {
      if (this.#members.get(membership.peer.connectionId) === membership) {
        this.#useDocument(membership)
      }
    })
  }

  /**
   * Handles a y-protocols sync message from a member that uses the document. Step 1 is answered
   * with step 2 (what the member lacks) and, with `answerWithStep1`, the room's own step 1 (so
   * the member sends what the room lacks as one step 2). Step 2 and updates (decoded in full
   * here) wait for the end of the window — at most `documentFlushMs` — and are then applied
   * together in ONE Yjs transaction: relayed to the members as one merged update, published on
   * the bus, handed to persistence, and `onApplied` is called. A read-only member's writes are
   * dropped. Throws
   * {@link MalformedSyncMessageError} for a message that does not decode; the document is then
   * unchanged.
   */
  receiveSync(
    membership: Membership,
    message: Uint8Array,
    answerWithStep1: boolean,
    onApplied?: () => void,
  ): SyncOutcome {
    const document = this.#document
    if (document === undefined || !membership.document) {
      throw new Error(`the document of room "${this.name}" is not in use by this member`)
    }
    const parsed = parseSyncMessage(message)
    if (parsed.type === 'step1') {
      // The answer reflects every write received so far, not only the applied ones.
      this.#applyPending()
      const replies = [encodeSyncStep2(document.doc, parsed.stateVector)]
      if (answerWithStep1) replies.push(encodeSyncStep1(document.doc))
      return { replies, readOnlyDropped: false, deferred: false }
    }
    if (!parsed.hasContent) return { replies: [], readOnlyDropped: false, deferred: false }
    if (membership.access !== 'write') {
      return { replies: [], readOnlyDropped: true, deferred: false }
    }
    this.#pending.push({ update: parsed.update, from: membership, onApplied })
    this.#scheduleWindow()
    return { replies: [], readOnlyDropped: false, deferred: true }
  }

  /** The room's sync step 1 (its state vector), for a y-websocket member that just joined. */
  documentStep1(): Uint8Array {
    if (this.#document === undefined) throw new Error('document not loaded')
    this.#applyPending()
    return encodeSyncStep1(this.#document.doc)
  }

  /**
   * The document's state vector: the hook for a state-vector resync between server processes
   * after a bus gap (not wired yet; see the `docUpdate` bus message).
   */
  documentStateVector(): Uint8Array | undefined {
    if (this.#document === undefined) return undefined
    this.#applyPending()
    return encodeSyncStep1(this.#document.doc)
  }

  /**
   * Applies the awareness entries a y-websocket member sent (states already validated as
   * presence) to the room's presence. Entries for clients the member does not own are ignored.
   */
  receiveAwareness(membership: Membership, entries: readonly ReceivedAwareness[]): void {
    const bridge = this.#awareness
    if (bridge === undefined || this.#members.get(membership.peer.connectionId) !== membership) {
      return
    }
    for (const change of bridge.receive(membership, entries)) {
      if (change.op === 'set') {
        this.#setLocal(change.recordId, membership.peer.userId, change.presence)
      } else {
        this.#removeLocal(change.recordId)
      }
    }
  }

  /** Every presence entry as one awareness message for a y-websocket member, if any. */
  awarenessSnapshot(membership: Membership): Uint8Array | undefined {
    return this.#awareness?.snapshot(this.#presence.records(), membership)
  }

  /** Encodes a presence snapshot (current entries and sequence) addressed to `handle`. */
  snapshot(handle: number): Uint8Array {
    const { seq, entries } = this.#presence.snapshot()
    return encodeFrame({ type: 'presenceSnapshot', handle, seq, entries })
  }

  /** Replaces a member's whole presence. */
  setPresence(membership: Membership, presence: PresenceValue): void {
    if (this.#members.get(membership.peer.connectionId) !== membership) return
    this.#setLocal(membership.peer.connectionId, membership.peer.userId, presence)
  }

  /** Removes a membership and its presence at once (leave, clean close). */
  leave(membership: Membership): void {
    if (!this.#detach(membership)) return
    this.#removeLocal(membership.peer.connectionId)
    this.#disposeIfUnused()
  }

  /**
   * Removes a membership but keeps its presence, marked with `token`, until
   * {@link releaseHold} with the same token (an unclean drop that may resume).
   */
  hold(membership: Membership, token: object): void {
    if (!this.#detach(membership)) return
    const record = this.#presence.get(membership.peer.connectionId)
    if (record !== undefined) record.hold = token
  }

  /** Ends a hold: removes the presence if it is still held by `token` (not resumed). */
  releaseHold(connectionId: string, token: object): void {
    if (this.#disposed || this.#presence.get(connectionId)?.hold !== token) return
    this.#removeLocal(connectionId)
    this.#disposeIfUnused()
  }

  /**
   * Relays a broadcast to every other native member, here and (through the bus) on other
   * servers. y-websocket members have no way to receive events.
   */
  broadcast(from: Membership, frame: BroadcastFrame): void {
    const event = addressedFrame({
      type: 'event',
      handle: 0,
      event: frame.event,
      payload: frame.payload,
      userId: from.peer.userId,
      connectionId: from.peer.connectionId,
    })
    this.#deliver(event, from.peer.connectionId)
    if (this.#context.bus !== undefined) {
      this.#publish({ kind: 'event', origin: this.#context.serverId, frame: event(0) })
    }
  }

  /**
   * {@inheritDoc TickSource.flushPresence} One diff per tick, encoded once for all native
   * members; y-websocket members get the same changes as one awareness update.
   */
  flushPresence(enqueue: (recipient: TickRecipient, bytes: Uint8Array) => void): void {
    const diff = this.#presence.takeDiff()
    if (diff === undefined || this.#disposed) return
    const frame = addressedFrame({ type: 'presenceDiff', handle: 0, ...diff })
    const awareness = this.#awareness?.encodeChanges(diff.changes)
    for (const membership of this.#members.values()) {
      if (membership.peer.protocol === 'native') {
        enqueue(membership.peer, frame(membership.handle))
        continue
      }
      const bytes = awareness?.(membership)
      if (bytes !== undefined) enqueue(membership.peer, bytes)
    }
  }

  /**
   * Periodic upkeep (driven by the heartbeat sweep): tells other servers our connections are
   * still here, and drops remote presence whose server stopped saying so.
   */
  sweep(now: number): void {
    if (this.#disposed) return
    const { serverId, presenceTimeoutMs } = this.#context
    if (now - this.#lastRefreshAt >= presenceTimeoutMs / 3) {
      this.#lastRefreshAt = now
      const connectionIds: string[] = []
      for (const record of this.#presence.records()) {
        if (record.origin === serverId) connectionIds.push(record.connectionId)
      }
      if (connectionIds.length > 0) {
        this.#publish({ kind: 'presenceRefresh', origin: serverId, connectionIds })
      }
    }
    let removed = false
    for (const record of [...this.#presence.records()]) {
      if (record.origin !== serverId && now - record.seenAt > presenceTimeoutMs) {
        removed = this.#presence.remove(record.connectionId) || removed
      }
    }
    if (removed) this.#context.schedule(this)
  }

  /**
   * Leaves the bus and forgets everything; idempotent. Presence still held for local
   * connections is withdrawn from other servers first. Members are not notified.
   */
  dispose(): void {
    if (this.#disposed) return
    // Writes already received are kept (persisted, published) even though nobody is left.
    this.#applyPending()
    for (const record of this.#presence.records()) {
      if (record.origin === this.#context.serverId) this.#publishRemove(record)
    }
    this.#disposed = true
    this.#members.clear()
    this.#documentMembers = 0
    this.#awareness = undefined
    this.#yjsMembers = 0
    this.#cancelUnload()
    this.#context.timers.clear(this.#windowTimer)
    this.#windowTimer = undefined
    this.#relay = { updates: [], origin: undefined }
    this.#unloadDocument()
    this.#unsubscribe()
    this.#context.onDispose(this)
  }

  #startLoad(): Promise<void> {
    this.#earlyUpdates = []
    return this.#context.documents
      .load(this.name, (update, origin) => this.#onDocumentUpdate(update, origin))
      .then(
        (document) => {
          const early = this.#earlyUpdates ?? []
          this.#documentLoad = undefined
          this.#earlyUpdates = undefined
          if (this.#disposed) {
            this.#context.documents.unload(this.name, document)
            throw new Error(`room "${this.name}" was disposed while its document loaded`)
          }
          this.#document = document
          for (const update of early) this.#applyRemote(document, update)
          this.#disposeIfUnused()
        },
        (error: unknown) => {
          this.#documentLoad = undefined
          this.#earlyUpdates = undefined
          this.#disposeIfUnused()
          throw error
        },
      )
  }

  #useDocument(membership: Membership): void {
    if (membership.document) return
    membership.document = true
    this.#documentMembers += 1
    this.#cancelUnload()
  }

  #cancelUnload(): void {
    this.#context.timers.clear(this.#unloadTimer)
    this.#unloadTimer = undefined
  }

  #unloadDocument(): void {
    this.#applyPending()
    const document = this.#document
    if (document === undefined) return
    this.#document = undefined
    this.#context.documents.unload(this.name, document)
  }

  /**
   * Collects an update applied to the document for the window's relay, and publishes local ones.
   * Relays wait up to `documentFlushMs`: the window's updates go out merged into ONE update per
   * member, so a room where many people type costs one frame per member per window instead of
   * one per keystroke — writes dominate fan-out CPU. Persistence and the bus see every applied
   * update (one per window for members' writes, see {@link receiveSync}).
   */
  #onDocumentUpdate(update: Uint8Array, origin: unknown): void {
    if (this.#relay.updates.length === 0) this.#relay.origin = origin
    else if (this.#relay.origin !== origin) this.#relay.origin = undefined
    this.#relay.updates.push(update)
    this.#scheduleWindow()
    if (origin !== busOrigin && this.#context.bus !== undefined) {
      this.#publish({ kind: 'docUpdate', origin: this.#context.serverId, update })
    }
  }

  /**
   * A write into a room that was quiet for a whole window goes out at once (the next timer
   * turn); in a busy room a window opens with its first write and ends `documentFlushMs` later,
   * so windows follow the writes instead of ticking. A lone typist sees no added latency; a
   * busy room costs at most one apply and one frame per member per `documentFlushMs`, however
   * many people type.
   */
  #scheduleWindow(): void {
    if (this.#windowTimer !== undefined) return
    const { documentFlushMs, now, timers } = this.#context
    const quiet = now() - this.#windowEndedAt >= documentFlushMs
    this.#windowTimer = timers.timeout(() => this.#endWindow(), quiet ? 0 : documentFlushMs)
  }

  /** Applies the window's writes, then relays what changed; acks and relays share one turn. */
  #endWindow(): void {
    this.#windowEndedAt = this.#context.now()
    if (!this.#disposed) {
      this.#applyPending()
      this.#flushRelay()
    }
    // Cleared last: the update the apply emits belongs to this window, not to a new one.
    this.#windowTimer = undefined
  }

  /**
   * Applies the pending writes to the document in one transaction — one persistence entry, one
   * relay and one bus message instead of one per keystroke — then calls their `onApplied`. The
   * origin is the member that sent them all, if one did (it is then not sent its own edits
   * back). Writes were decoded in full when received; should Yjs still fail on one, they are
   * applied one by one and only the sender of a failing one is closed (Yjs skips what it
   * already integrated).
   */
  #applyPending(): void {
    const writes = this.#pending
    if (writes.length === 0) return
    this.#pending = []
    const document = this.#document
    if (document === undefined) return
    const first = writes[0] as PendingWrite
    const origin = writes.every((write) => write.from === first.from) ? first.from : undefined
    try {
      document.apply(
        writes.map((write) => write.update),
        origin,
      )
    } catch {
      for (const write of writes) {
        try {
          document.apply([write.update], write.from)
        } catch (error) {
          const reason = error instanceof Error ? error.message : String(error)
          write.onApplied = undefined
          write.from.peer.close(
            CloseCode.MalformedFrame,
            `the update could not be applied: ${reason}`,
          )
        }
      }
    }
    for (const write of writes) write.onApplied?.()
  }

  #flushRelay(): void {
    const { updates, origin } = this.#relay
    this.#relay = { updates: [], origin: undefined }
    if (updates.length === 0) return
    const update = updates.length === 1 ? (updates[0] as Uint8Array) : mergeUpdates(updates)
    let message: Uint8Array | undefined
    let native: AddressedFrame | undefined
    let yjs: Uint8Array | undefined
    for (const membership of this.#members.values()) {
      // A member gets its own edits back only when they were merged with someone else's:
      // applying known content is a no-op for Yjs, and one shared update is what saves the work.
      if (!membership.document || membership === origin) continue
      message ??= encodeSyncUpdate(update)
      if (membership.peer.protocol === 'yjs') {
        yjs ??= encodeYjsSync(message)
        membership.peer.send(yjs)
      } else {
        // Encoded for the first recipient's handle: clients mostly share handle numbers.
        native ??= addressedFrame({ type: 'doc', handle: membership.handle, seq: 0, message })
        membership.peer.send(native(membership.handle))
      }
    }
  }

  #applyRemote(document: RoomDocument, update: Uint8Array): void {
    try {
      document.applyRemote(update)
    } catch (error) {
      this.#context.logger.warn(
        `syncline: dropped a document update from the bus in "${this.name}"`,
        error,
      )
    }
  }

  #detach(membership: Membership): boolean {
    if (this.#members.get(membership.peer.connectionId) !== membership) return false
    this.#members.delete(membership.peer.connectionId)
    if (membership.document) {
      membership.document = false
      this.#documentMembers -= 1
    }
    if (membership.peer.protocol === 'yjs') {
      this.#yjsMembers -= 1
      const bridge = this.#awareness
      if (bridge !== undefined) {
        for (const recordId of bridge.release(membership)) this.#removeLocal(recordId)
      }
      if (this.#yjsMembers === 0) this.#awareness = undefined
    }
    return true
  }

  /**
   * Starts the unload delay once nobody uses the loaded document, and disposes the room once
   * nothing at all is left: no member, no waiting join, no held presence, no document.
   */
  #disposeIfUnused(): void {
    if (this.#disposed) return
    if (
      this.#document !== undefined &&
      this.#documentMembers === 0 &&
      this.#reservations === 0 &&
      this.#unloadTimer === undefined
    ) {
      this.#unloadTimer = this.#context.timers.timeout(() => {
        this.#unloadTimer = undefined
        this.#unloadDocument()
        this.#disposeIfUnused()
      }, this.#context.documentUnloadDelayMs)
    }
    if (this.#members.size > 0 || this.#reservations > 0) return
    if (this.#document !== undefined || this.#documentLoad !== undefined) return
    for (const record of this.#presence.records()) {
      if (record.hold !== undefined) return
    }
    this.dispose()
  }

  #setLocal(connectionId: string, userId: string, presence: PresenceValue): void {
    const record: PresenceRecord = {
      connectionId,
      userId,
      presence: presence.value,
      json: presence.json,
      origin: this.#context.serverId,
      seenAt: this.#context.now(),
    }
    const previous = this.#presence.get(connectionId)
    // A late tick must not coalesce away a value older than one tick: send it first.
    if (previous !== undefined) this.#context.catchUpPresence()
    // Replacing the record also ends a hold: a resumed connection took its entry back.
    this.#presence.set(record)
    if (previous?.json === record.json && previous.userId === record.userId) return
    this.#context.schedule(this)
    this.#publish({
      kind: 'presenceSet',
      origin: record.origin,
      connectionId: record.connectionId,
      userId: record.userId,
      json: record.json,
    })
  }

  #removeLocal(connectionId: string): void {
    const record = this.#presence.get(connectionId)
    if (record === undefined || !this.#presence.remove(connectionId)) return
    this.#context.schedule(this)
    this.#publishRemove(record)
  }

  #publishRemove(record: PresenceRecord): void {
    this.#publish({
      kind: 'presenceRemove',
      origin: this.#context.serverId,
      connectionId: record.connectionId,
      userId: record.userId,
    })
  }

  #publish(message: BusMessage): void {
    this.#context.bus?.publish(this.#topic, encodeBusMessage(message))
  }

  /** Sends a native room frame to every native member (but one). */
  #deliver(frame: AddressedFrame, exceptConnectionId?: string): void {
    for (const [connectionId, membership] of this.#members) {
      if (connectionId === exceptConnectionId || membership.peer.protocol !== 'native') continue
      membership.peer.send(frame(membership.handle))
    }
  }

  #onBusMessage(bytes: Uint8Array): void {
    if (this.#disposed) return
    const message = decodeBusMessage(bytes)
    if (message === undefined) {
      this.#context.logger.warn(`syncline: dropped an unreadable bus message in "${this.name}"`)
      return
    }
    const { serverId } = this.#context
    if (message.origin === serverId) return
    try {
      this.#onRemote(message)
    } catch (error) {
      this.#context.logger.warn(
        `syncline: dropped a malformed bus message in "${this.name}"`,
        error,
      )
    }
  }

  #onRemote(message: BusMessage): void {
    const { serverId } = this.#context
    switch (message.kind) {
      case 'event':
        this.#deliver(addressedFrameFromBytes(message.frame))
        return
      case 'presenceSet': {
        // A connection we own (e.g. it resumed here) is never overwritten from elsewhere.
        if (this.#presence.get(message.connectionId)?.origin === serverId) return
        this.#presence.set({
          connectionId: message.connectionId,
          userId: message.userId,
          presence: JSON.parse(message.json),
          json: message.json,
          origin: message.origin,
          seenAt: this.#context.now(),
        })
        if (this.#presence.hasPending) this.#context.schedule(this)
        return
      }
      case 'presenceRemove':
        if (this.#presence.get(message.connectionId)?.origin !== message.origin) return
        this.#presence.remove(message.connectionId)
        this.#context.schedule(this)
        return
      case 'presenceQuery':
        for (const record of this.#presence.records()) {
          if (record.origin !== serverId) continue
          this.#publish({
            kind: 'presenceSet',
            origin: serverId,
            connectionId: record.connectionId,
            userId: record.userId,
            json: record.json,
          })
        }
        return
      case 'presenceRefresh': {
        const now = this.#context.now()
        for (const connectionId of message.connectionIds) {
          const record = this.#presence.get(connectionId)
          if (record?.origin === message.origin) record.seenAt = now
        }
        return
      }
      case 'docUpdate':
        if (this.#document !== undefined) {
          this.#applyRemote(this.#document, message.update)
        } else if (this.#earlyUpdates !== undefined) {
          if (this.#earlyUpdates.length < limits.maxUpdatesDuringLoad) {
            this.#earlyUpdates.push(message.update)
          } else {
            this.#context.logger.warn(
              `syncline: dropped a document update from the bus in "${this.name}" during its load`,
            )
          }
        }
        return
    }
  }
}
