// Connections that dropped without a close frame, held for presenceGraceMs so a quick
// reconnect (`hello.resume`) takes its place without the others seeing it leave and come back.
import type { TimerHandle, TimerSet } from './timers'

interface Departure {
  connectionId: string
  userId: string
  claimed: boolean
  timer: TimerHandle
}

/** The held departures of this server, each with its own grace timer. */
export class Departures {
  readonly #timers: TimerSet
  readonly #graceMs: number
  /** The latest departure per connectionId: the one a resume can claim. */
  readonly #latest = new Map<string, Departure>()
  readonly #all = new Set<Departure>()

  constructor(timers: TimerSet, graceMs: number) {
    this.#timers = timers
    this.#graceMs = graceMs
  }

  /** Departures whose grace is running. */
  get size(): number {
    return this.#all.size
  }

  /**
   * Holds `connectionId` for the grace period, then calls `release`, which removes the presence
   * still held by this departure (rooms the connection did not rejoin meanwhile).
   */
  hold(connectionId: string, userId: string, release: () => void): void {
    const departure: Departure = {
      connectionId,
      userId,
      claimed: false,
      timer: this.#timers.timeout(() => {
        this.#all.delete(departure)
        if (this.#latest.get(connectionId) === departure) this.#latest.delete(connectionId)
        release()
      }, this.#graceMs),
    }
    this.#all.add(departure)
    this.#latest.set(connectionId, departure)
  }

  /**
   * Lets a new connection of `userId` take over `connectionId`, once. The grace timer keeps
   * running: rooms the new connection does not rejoin in time are released when it fires.
   */
  claim(connectionId: string | undefined, userId: string): boolean {
    if (connectionId === undefined) return false
    const departure = this.#latest.get(connectionId)
    if (departure === undefined || departure.claimed || departure.userId !== userId) return false
    departure.claimed = true
    return true
  }

  /** Forgets every departure without releasing (shutdown: the rooms are disposed anyway). */
  clear(): void {
    for (const departure of this.#all) this.#timers.clear(departure.timer)
    this.#all.clear()
    this.#latest.clear()
  }
}
