// A room on this server process: its local members (each addressed by its own handle), the
// room's presence (local and remote connections), and its bus subscription. It lives while it
// has members or held presence and disposes everything it owns after that; a later document
// (Y.Doc) hangs off this same lifecycle.
import { type Access, type BroadcastFrame, encodeFrame } from '@syncline/protocol'
import type { Bus } from './bus'
import { type BusMessage, decodeBusMessage, encodeBusMessage, roomTopic } from './busMessage'
import type { Logger } from './options'
import { type PresenceRecord, RoomPresence } from './presence'
import type { TickRecipient, TickSource } from './presenceTicker'
import { type AddressedFrame, addressedFrame, addressedFrameFromBytes } from './roomFrame'

/** What a room needs from a connection. */
export interface RoomPeer extends TickRecipient {
  readonly connectionId: string
  readonly userId: string
  /** Sends one encoded WebSocket message to the peer (dropped if the socket is closing). */
  send(bytes: Uint8Array): void
}

/** One connection's membership in one room. */
export interface Membership {
  readonly room: Room
  readonly peer: RoomPeer
  /** The number the peer chose to address this room with. */
  readonly handle: number
  readonly access: Access
}

/** A validated presence value with its JSON text. */
export interface PresenceValue {
  value: unknown
  json: string
}

/** What a room is given by its registry. */
export interface RoomContext {
  bus: Bus
  /** This server process's id: bus messages from it are ignored (already delivered locally). */
  serverId: string
  logger: Logger
  now: () => number
  /** Remote presence not refreshed for this long is dropped (its server died). */
  presenceTimeoutMs: number
  /** Asks for `flushPresence` on the next presence tick. */
  schedule: (room: Room) => void
  /** Called once, after the room disposed itself. */
  onDispose: (room: Room) => void
}

/** A room with at least one local member or held presence. Created by the RoomRegistry. */
export class Room implements TickSource {
  /** The room's name, as clients join it. */
  readonly name: string
  readonly #context: RoomContext
  readonly #topic: string
  readonly #members = new Map<string, Membership>()
  readonly #presence = new RoomPresence()
  readonly #unsubscribe: () => void
  #lastRefreshAt: number
  #disposed = false

  constructor(name: string, context: RoomContext) {
    this.name = name
    this.#context = context
    this.#topic = roomTopic(name)
    this.#lastRefreshAt = context.now()
    this.#unsubscribe = context.bus.subscribe(this.#topic, (bytes) => this.#onBusMessage(bytes))
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

  /**
   * Adds `peer` as a member addressed by `handle`, with its initial presence. If the peer's
   * connectionId still has held presence here (a resume), the entry is taken over silently.
   */
  join(peer: RoomPeer, handle: number, access: Access, presence: PresenceValue): Membership {
    if (this.#disposed) throw new Error(`room "${this.name}" is disposed`)
    const membership: Membership = { room: this, peer, handle, access }
    this.#members.set(peer.connectionId, membership)
    this.#setLocal(peer, presence)
    return membership
  }

  /** Encodes a presence snapshot (current entries and sequence) addressed to `handle`. */
  snapshot(handle: number): Uint8Array {
    const { seq, entries } = this.#presence.snapshot()
    return encodeFrame({ type: 'presenceSnapshot', handle, seq, entries })
  }

  /** Replaces a member's whole presence. */
  setPresence(membership: Membership, presence: PresenceValue): void {
    if (this.#members.get(membership.peer.connectionId) !== membership) return
    this.#setLocal(membership.peer, presence)
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

  /** Relays a broadcast to every other member, here and (through the bus) on other servers. */
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
    this.#publish({ kind: 'event', origin: this.#context.serverId, frame: event(0) })
  }

  /** {@inheritDoc TickSource.flushPresence} One diff per tick, encoded once for all members. */
  flushPresence(enqueue: (recipient: TickRecipient, bytes: Uint8Array) => void): void {
    const diff = this.#presence.takeDiff()
    if (diff === undefined || this.#disposed) return
    const frame = addressedFrame({ type: 'presenceDiff', handle: 0, ...diff })
    for (const membership of this.#members.values()) {
      enqueue(membership.peer, frame(membership.handle))
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
    for (const record of this.#presence.records()) {
      if (record.origin === this.#context.serverId) this.#publishRemove(record)
    }
    this.#disposed = true
    this.#members.clear()
    this.#unsubscribe()
    this.#context.onDispose(this)
  }

  #detach(membership: Membership): boolean {
    if (this.#members.get(membership.peer.connectionId) !== membership) return false
    this.#members.delete(membership.peer.connectionId)
    return true
  }

  #disposeIfUnused(): void {
    if (this.#members.size > 0) return
    for (const record of this.#presence.records()) {
      if (record.hold !== undefined) return
    }
    this.dispose()
  }

  #setLocal(peer: RoomPeer, presence: PresenceValue): void {
    const record: PresenceRecord = {
      connectionId: peer.connectionId,
      userId: peer.userId,
      presence: presence.value,
      json: presence.json,
      origin: this.#context.serverId,
      seenAt: this.#context.now(),
    }
    const previous = this.#presence.get(peer.connectionId)
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
    this.#context.bus.publish(this.#topic, encodeBusMessage(message))
  }

  #deliver(frame: AddressedFrame, exceptConnectionId?: string): void {
    for (const [connectionId, membership] of this.#members) {
      if (connectionId !== exceptConnectionId) membership.peer.send(frame(membership.handle))
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
    }
  }
}
