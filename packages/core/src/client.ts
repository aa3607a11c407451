// createClient(): the object users hold. It wires the connection (connection.ts) to the rooms
// (roomRegistry.ts), exposes their state as atoms and their events through one emitter, and
// is the single owner that `destroy()` tears down.
import EventEmitter from 'eventemitter3'
import type { ReadableAtom } from 'nanostores'
import { type ClientEvents, type ClientStatus, Connection, type Failure } from './connection'
import { SynclineError } from './errors'
import {
  type ClientOptions,
  checkRoomName,
  type JoinOptions,
  type ResolvedClientOptions,
  resolveClientOptions,
  resolveJoinOptions,
} from './options'
import type { Presence, Room } from './room'
import { RoomRegistry } from './roomRegistry'

/** A Syncline client: one connection carrying any number of rooms. */
export class SynclineClient {
  readonly #options: ResolvedClientOptions
  readonly #emitter = new EventEmitter<ClientEvents>()
  readonly #connection: Connection
  readonly #rooms: RoomRegistry

  /** @internal Use {@link createClient}. */
  constructor(options: ClientOptions) {
    this.#options = resolveClientOptions(options)
    this.#rooms = new RoomRegistry(this.#options, this.#emitter, () => this.#connection)
    this.#connection = new Connection(this.#options, this.#emitter, {
      open: () => this.#rooms.open(),
      welcome: () => {},
      frame: (frame) => this.#rooms.frame(frame),
      disconnect: () => this.#rooms.disconnect(),
      page: (event) => {
        if (event.type === 'pagehide') this.#rooms.pageHide()
      },
    })
    if (this.#options.autoConnect) this.#connection.connect()
  }

  /** Connection status. */
  get status(): ReadableAtom<ClientStatus> {
    return this.#connection.status
  }

  /** Why the client failed, while `status` is `failed`; null otherwise. */
  get failure(): ReadableAtom<Failure | null> {
    return this.#connection.failure
  }

  /** The user id the server authenticated, once connected. */
  get userId(): ReadableAtom<string | null> {
    return this.#connection.userId
  }

  /** The id of the current connection, once connected; changes on every reconnect. */
  get connectionId(): ReadableAtom<string | null> {
    return this.#connection.connectionId
  }

  /**
   * Starts connecting when created with `autoConnect: false`, or tries again after `failed`.
   * Does nothing in any other status.
   */
  connect(): void {
    this.#assertAlive('connect')
    this.#connection.connect()
  }

  /**
   * Joins room `name` (or takes one more hold on it: joining again returns the same Room, and
   * it is left when every holder called `leave()`). Works in any status: the join is sent as
   * soon as a socket is open, and again after every reconnect.
   */
  join<P extends Presence = Presence>(name: string, options?: JoinOptions<P>): Room<P> {
    this.#assertAlive('join')
    checkRoomName(name)
    const resolved = resolveJoinOptions(options, this.#options.presenceThrottleMs)
    return this.#rooms.join(name, resolved) as unknown as Room<P>
  }

  /** The room joined under `name`, if any. */
  getRoom<P extends Presence = Presence>(name: string): Room<P> | undefined {
    return this.#rooms.get(name) as unknown as Room<P> | undefined
  }

  /** Listens to a client event; returns the function that stops listening. */
  on<E extends keyof ClientEvents>(event: E, listener: ClientEvents[E]): () => void {
    this.#emitter.on(event, listener as never)
    return () => this.off(event, listener)
  }

  /** Listens to the next occurrence of a client event only. */
  once<E extends keyof ClientEvents>(event: E, listener: ClientEvents[E]): () => void {
    this.#emitter.once(event, listener as never)
    return () => this.off(event, listener)
  }

  /** Stops listening. */
  off<E extends keyof ClientEvents>(event: E, listener: ClientEvents[E]): void {
    this.#emitter.off(event, listener as never)
  }

  /**
   * Leaves every room, closes the socket with 1000 and removes every timer and listener.
   * Status becomes `closed`; the client cannot be used again.
   */
  destroy(): void {
    if (this.#connection.status.get() === 'closed') return
    this.#rooms.destroy()
    this.#connection.destroy()
    this.#emitter.removeAllListeners()
  }

  #assertAlive(verb: string): void {
    if (this.#connection.status.get() !== 'closed') return
    throw new SynclineError(
      'destroyed',
      `Cannot ${verb}: the client was destroyed. Create a new one.`,
    )
  }
}

/**
 * Creates a client and (unless `autoConnect: false`) starts connecting.
 *
 * @example
 * const client = createClient({ url: 'wss://example.com', auth: () => getToken() })
 * const room = client.join('board-1', { presence: { name: 'Ada' } })
 */
export function createClient(options: ClientOptions): SynclineClient {
  return new SynclineClient(options)
}
