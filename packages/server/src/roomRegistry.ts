// The rooms of this server process by name, and the loading and unloading of their documents. A
// room is created on its first join and removed when it disposes itself (no members, no held
// presence, no document); nothing else holds rooms, so a disposed room is unreachable and its
// resources are gone. Document loads and flushes are tracked here so that a reload waits for
// the previous unload's last write and close() can wait for all of them.
import type { Bus } from './bus'
import type { DocumentPersistenceError } from './documentPersistence'
import type { DocumentStore } from './documentStore'
import type { Logger, PersistenceOptions } from './options'
import type { PresenceTicker } from './presenceTicker'
import { type DocumentHost, Room } from './room'
import { RoomDocument } from './roomDocument'
import type { TimerSet } from './timers'

/** What the registry needs to create rooms. */
export interface RoomRegistryContext {
  /** `undefined` when no other process can receive room traffic (see `RoomContext.bus`). */
  bus: Bus | undefined
  serverId: string
  logger: Logger
  now: () => number
  presenceTimeoutMs: number
  ticker: PresenceTicker
  timers: TimerSet
  store: DocumentStore
  persistence: Required<PersistenceOptions>
  documentUnloadDelayMs: number
  documentFlushMs: number
}

/** Creates, finds and disposes rooms; loads and unloads their documents. */
export class RoomRegistry implements DocumentHost {
  readonly #rooms = new Map<string, Room>()
  readonly #context: RoomRegistryContext
  /** Documents alive: loading, loaded, or flushing after an unload. */
  #documents = 0
  /** The unload (last flush) in progress per room name; a reload waits for it. */
  readonly #unloading = new Map<string, Promise<void>>()
  /** Every load and unload in progress. */
  readonly #inFlight = new Set<Promise<void>>()

  constructor(context: RoomRegistryContext) {
    this.#context = context
  }

  /** Rooms alive on this process. */
  get size(): number {
    return this.#rooms.size
  }

  /** Documents alive on this process (loading, loaded, or flushing their last writes). */
  get documents(): number {
    return this.#documents
  }

  /** The room `name` if it is alive. */
  get(name: string): Room | undefined {
    return this.#rooms.get(name)
  }

  /**
   * The room `name`, created if needed. The caller must add a member or a reservation right
   * away (in the same synchronous turn); a room is disposed only when those end.
   */
  acquire(name: string): Room {
    let room = this.#rooms.get(name)
    if (room === undefined) {
      const { ticker, timers, documentUnloadDelayMs, bus, serverId, logger, now } = this.#context
      room = new Room(name, {
        bus,
        serverId,
        logger,
        now,
        presenceTimeoutMs: this.#context.presenceTimeoutMs,
        timers,
        documentUnloadDelayMs,
        documentFlushMs: this.#context.documentFlushMs,
        documents: this,
        schedule: (dirty) => ticker.schedule(dirty),
        catchUpPresence: () => ticker.catchUp(),
        onDispose: (disposed) => {
          ticker.cancel(disposed)
          if (this.#rooms.get(disposed.name) === disposed) this.#rooms.delete(disposed.name)
        },
      })
      this.#rooms.set(name, room)
    }
    return room
  }

  /** {@inheritDoc DocumentHost.load} */
  load(
    room: string,
    onUpdate: (update: Uint8Array, origin: unknown) => void,
  ): Promise<RoomDocument> {
    const { store, persistence, logger } = this.#context
    const document = new RoomDocument({
      room,
      store,
      persistence,
      onUpdate,
      onPersistenceError: (error: DocumentPersistenceError) =>
        logger.error(`syncline: ${error.message}`, error.cause ?? error),
    })
    this.#documents += 1
    const previous = this.#unloading.get(room)
    const loading = (async () => {
      try {
        await previous
        await document.load()
        return document
      } catch (error) {
        logger.error(`syncline: loading the document of room "${room}" failed`, error)
        await document.dispose()
        this.#documents -= 1
        throw error
      }
    })()
    this.#track(loading)
    return loading
  }

  /** {@inheritDoc DocumentHost.unload} */
  unload(room: string, document: RoomDocument): void {
    const done = document
      .dispose()
      .catch((error: unknown) => {
        this.#context.logger.error(`syncline: unloading the document of room "${room}"`, error)
      })
      .finally(() => {
        this.#documents -= 1
        if (this.#unloading.get(room) === done) this.#unloading.delete(room)
      })
    this.#unloading.set(room, done)
    this.#track(done)
  }

  /** Periodic upkeep of every room (presence refresh and expiry). */
  sweep(now: number): void {
    for (const room of [...this.#rooms.values()]) room.sweep(now)
  }

  /** Disposes every room (server shutdown); their documents start flushing. */
  disposeAll(): void {
    for (const room of [...this.#rooms.values()]) room.dispose()
  }

  /** Resolves once every document load and unload (with its last write) has settled. */
  async drain(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight])
  }

  #track(promise: Promise<unknown>): void {
    const forget = (): void => {
      this.#inFlight.delete(tracked)
    }
    const tracked: Promise<void> = promise.then(forget, forget)
    this.#inFlight.add(tracked)
  }
}
