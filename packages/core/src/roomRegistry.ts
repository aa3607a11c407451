// The rooms of one client over its one socket: reference counts, per-connection handles,
// (re)joining after every reconnect, routing frames to rooms, and the offline queue that holds
// room traffic until the room is joined again. Intents are queued, not frames, because a
// frame names a handle and handles are only valid on the connection that assigned them.
import { encodeFrame, type Frame } from '@syncline/protocol'
import type EventEmitter from 'eventemitter3'
import type { ClientEvents, Connection } from './connection'
import type { DocLink } from './docSync'
import { SynclineError } from './errors'
import { type DropReason, OfflineQueue, type QueueEntry } from './offlineQueue'
import { Room, type RoomIntent } from './room'

interface Queued {
  room: Room
  intent: RoomIntent
}

interface Entry {
  room: Room
  refs: number
  /** Handle of the join sent on the current socket; undefined while no join is out. */
  handle: number | undefined
  /** The server answered `joined` for `handle`. */
  joined: boolean
}

/** Options the registry takes from the client. */
export interface RoomRegistryOptions {
  offlineQueue: { maxMessages: number; maxBytes: number }
}

/** Owns every room of a client and their traffic. */
export class RoomRegistry {
  readonly #connection: () => Connection
  readonly #events: EventEmitter<ClientEvents>
  readonly #entries = new Map<string, Entry>()
  readonly #byHandle = new Map<number, Entry>()
  readonly #byRoom = new Map<Room, Entry>()
  readonly #queue: OfflineQueue<Queued>
  /** Never reused within a client, so a late frame for an old handle cannot hit a new room. */
  #nextHandle = 1

  constructor(
    options: RoomRegistryOptions,
    events: EventEmitter<ClientEvents>,
    connection: () => Connection,
  ) {
    this.#events = events
    this.#connection = connection
    this.#queue = new OfflineQueue<Queued>({
      ...options.offlineQueue,
      onDrop: (entry, reason) => this.#reportDrop(entry, reason),
    })
  }

  /** Joins `name` or takes one more hold on it. */
  join(
    name: string,
    options: {
      presence: Record<string, unknown> | undefined
      doc: boolean
      presenceThrottleMs: number
    },
  ): Room {
    const existing = this.#entries.get(name)
    if (existing) {
      existing.refs++
      // A later holder may want the document the first one did not ask for.
      if (options.doc) existing.room._ensureDoc()
      return existing.room
    }
    const room: Room = new Room(
      name,
      {
        send: (target, intent) => this.#send(target, intent),
        release: (target) => this.#release(target),
        maxPayloadBytes: () => this.#connection().maxPayloadBytes,
        resync: (target) => this.#resync(target),
        identity: () => ({
          userId: this.#connection().userId.get(),
          connectionId: this.#connection().connectionId.get(),
        }),
        docLink: (target) => this.#docLink(target),
      },
      { presence: options.presence, presenceThrottleMs: options.presenceThrottleMs },
    )
    const entry: Entry = { room, refs: 1, handle: undefined, joined: false }
    this.#entries.set(name, entry)
    this.#byRoom.set(room, entry)
    if (options.doc) room._ensureDoc()
    if (this.#connection().isOpen) this.#sendJoin(entry)
    return room
  }

  /** The room joined under `name`, if any. */
  get(name: string): Room | undefined {
    return this.#entries.get(name)?.room
  }

  /** Queued messages, for inspection. */
  get queueSize(): number {
    return this.#queue.size
  }

  /** Socket opened and hello sent: pipeline a join for every room. */
  open(): void {
    for (const entry of this.#entries.values()) this.#sendJoin(entry)
  }

  /** Routes a frame from the server to its room. */
  frame(frame: Frame): void {
    if (!('handle' in frame)) return
    const entry = this.#byHandle.get(frame.handle)
    if (!entry) return // A late frame for a room we left (or a handle from an old socket).
    switch (frame.type) {
      case 'joined':
        entry.joined = true
        entry.room._joined(frame.access)
        this.#flush(entry)
        return
      case 'denied':
        // The server holds no membership for a denied handle: no leave frame for it.
        this.#byHandle.delete(frame.handle)
        entry.handle = undefined
        this.#remove(entry, 'room_closed')
        entry.room._denied({ code: frame.code, reason: frame.reason })
        return
      case 'event':
        entry.room._event(frame)
        return
      case 'presenceSnapshot':
      case 'presenceDiff':
        entry.room._presence(frame)
        return
      case 'doc':
        entry.room._docMessage(frame.message)
        return
      case 'ack':
        entry.room._ack(frame.seq)
        return
      case 'error': {
        const error = new SynclineError(
          'server_error',
          `Server error ${frame.code} in room "${entry.room.name}": ${frame.message}`,
          { details: { code: frame.code, room: entry.room.name } },
        )
        entry.room._error(error)
        this.#events.emit('error', error)
        return
      }
      default:
        return
    }
  }

  /** The socket is gone: handles die with it; rooms wait to be rejoined. */
  disconnect(): void {
    this.#byHandle.clear()
    for (const entry of this.#entries.values()) {
      entry.handle = undefined
      entry.joined = false
      entry.room._disconnected()
    }
  }

  /**
   * The page is going away (or into the bfcache): tell the server now, so the others do not
   * see a ghost until a timeout. The rooms stay held and are rejoined when the page returns.
   */
  pageHide(): void {
    for (const entry of this.#entries.values()) {
      if (entry.handle === undefined) continue
      this.#connection().send({ type: 'leave', handle: entry.handle })
      this.#byHandle.delete(entry.handle)
      entry.handle = undefined
      entry.joined = false
    }
  }

  /** Leaves every room (telling the server if the socket is open) and drops queued traffic. */
  destroy(): void {
    for (const entry of [...this.#entries.values()]) {
      this.#remove(entry, 'destroyed')
      entry.room._left()
    }
  }

  #sendJoin(entry: Entry): void {
    const handle = this.#nextHandle++
    const frame: Frame = {
      type: 'join',
      handle,
      room: entry.room.name,
      // Asked again on every rejoin: the server forgets a handle's subscriptions with its socket.
      doc: entry.room._hasDoc(),
      presence: entry.room._joinPresence(),
    }
    if (!this.#connection().send(frame)) return
    // The join announces the current presence: a queued presence update would only repeat it.
    this.#queue.take((value) => value.room === entry.room && value.intent.kind === 'presence')
    if (entry.handle !== undefined) this.#byHandle.delete(entry.handle)
    entry.handle = handle
    entry.joined = false
    this.#byHandle.set(handle, entry)
    entry.room._joinSent()
  }

  #resync(room: Room): void {
    const entry = this.#byRoom.get(room)
    if (entry?.handle === undefined || !entry.joined) return
    this.#connection().send({ type: 'presenceResync', handle: entry.handle })
  }

  /**
   * Document frames bypass the offline queue: a link belongs to one handle on one socket, and
   * what could not be sent on it travels in the next state-vector exchange, merged.
   */
  #docLink(room: Room): DocLink {
    const entry = this.#byRoom.get(room)
    const handle = entry?.handle
    return {
      send: (seq, message) => {
        // Valid from the join frame on: the server handles the connection's frames in order.
        if (entry === undefined || handle === undefined || entry.handle !== handle) {
          throw new Error(`room "${room.name}" is no longer joined on this connection`)
        }
        const bytes = encodeFrame({ type: 'doc', handle, seq, message })
        const connection = this.#connection()
        if (bytes.byteLength > connection.maxPayloadBytes) {
          throw new SynclineError(
            'payload_too_large',
            `A document update of ${bytes.byteLength} bytes in room "${room.name}" exceeds the server's maxPayloadBytes (${connection.maxPayloadBytes}); it was not sent and stays pending. Split large imports into several transactions.`,
            { details: { bytes: bytes.byteLength, limit: connection.maxPayloadBytes } },
          )
        }
        if (!connection.sendBytes(bytes)) {
          throw new Error(`the socket of room "${room.name}" is closed`)
        }
      },
    }
  }

  #send(room: Room, intent: RoomIntent): void {
    const entry = this.#byRoom.get(room)
    if (!entry) return
    if (entry.joined && entry.handle !== undefined && this.#connection().isOpen) {
      this.#transmit(entry, entry.handle, intent)
      return
    }
    this.#queue.push({
      value: { room, intent },
      bytes: intent.bytes,
      key: intent.kind === 'presence' ? `presence:${room.name}` : undefined,
    })
  }

  /** Sends queued intents of a room that was just joined, in order, each exactly once. */
  #flush(entry: Entry): void {
    const handle = entry.handle
    if (handle === undefined) return
    for (const queued of this.#queue.take((value) => value.room === entry.room)) {
      this.#transmit(entry, handle, queued.value.intent, queued)
    }
  }

  #transmit(entry: Entry, handle: number, intent: RoomIntent, queued?: QueueEntry<Queued>): void {
    const frame: Frame =
      intent.kind === 'broadcast'
        ? { type: 'broadcast', handle, event: intent.event, payload: intent.payload }
        : { type: 'presence', handle, presence: intent.presence }
    const bytes = encodeFrame(frame)
    const connection = this.#connection()
    if (bytes.byteLength > connection.maxPayloadBytes) {
      // The limit may have shrunk since the intent was accepted: report, never get the socket closed.
      this.#reportDrop(
        queued ?? { value: { room: entry.room, intent }, bytes: bytes.byteLength },
        'too_large',
      )
      return
    }
    connection.sendBytes(bytes)
  }

  #release(room: Room): void {
    const entry = this.#byRoom.get(room)
    if (!entry) return
    entry.refs--
    if (entry.refs > 0) return
    this.#remove(entry, 'room_closed')
    room._left()
  }

  /** Forgets a room: tells the server if a join is out, drops its queued traffic. */
  #remove(entry: Entry, reason: DropReason): void {
    if (entry.handle !== undefined) {
      this.#connection().send({ type: 'leave', handle: entry.handle })
      this.#byHandle.delete(entry.handle)
    }
    entry.handle = undefined
    entry.joined = false
    this.#entries.delete(entry.room.name)
    this.#byRoom.delete(entry.room)
    this.#queue.drop((value) => value.room === entry.room, reason)
  }

  #reportDrop(entry: QueueEntry<Queued>, reason: DropReason): void {
    const { room, intent } = entry.value
    this.#events.emit('dropped', {
      room: room.name,
      kind: intent.kind,
      payload: intent.kind === 'broadcast' ? intent.payload : intent.presence,
      ...(intent.kind === 'broadcast' ? { event: intent.event } : {}),
      reason,
    })
  }
}
