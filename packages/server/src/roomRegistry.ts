// The rooms of this server process by name. A room is created on its first join and removed
// when it disposes itself (no members, no held presence); nothing else holds rooms, so a
// disposed room is unreachable and its resources are gone.
import type { Bus } from './bus'
import type { Logger } from './options'
import type { PresenceTicker } from './presenceTicker'
import { Room } from './room'

/** What the registry needs to create rooms. */
export interface RoomRegistryContext {
  bus: Bus
  serverId: string
  logger: Logger
  now: () => number
  presenceTimeoutMs: number
  ticker: PresenceTicker
}

/** Creates, finds and disposes rooms. */
export class RoomRegistry {
  readonly #rooms = new Map<string, Room>()
  readonly #context: RoomRegistryContext

  constructor(context: RoomRegistryContext) {
    this.#context = context
  }

  /** Rooms alive on this process. */
  get size(): number {
    return this.#rooms.size
  }

  /** The room `name` if it is alive. */
  get(name: string): Room | undefined {
    return this.#rooms.get(name)
  }

  /**
   * The room `name`, created if needed. The caller must add a member right away (in the same
   * synchronous turn); a room is disposed only when a member leaves. When rooms load documents,
   * this is where loading goes (and it becomes async, with the join waiting for it).
   */
  acquire(name: string): Room {
    let room = this.#rooms.get(name)
    if (room === undefined) {
      const { ticker, ...context } = this.#context
      room = new Room(name, {
        ...context,
        schedule: (dirty) => ticker.schedule(dirty),
        onDispose: (disposed) => {
          ticker.cancel(disposed)
          if (this.#rooms.get(disposed.name) === disposed) this.#rooms.delete(disposed.name)
        },
      })
      this.#rooms.set(name, room)
    }
    return room
  }

  /** Periodic upkeep of every room (presence refresh and expiry). */
  sweep(now: number): void {
    for (const room of [...this.#rooms.values()]) room.sweep(now)
  }

  /** Disposes every room (server shutdown). */
  disposeAll(): void {
    for (const room of [...this.#rooms.values()]) room.dispose()
  }
}
