// Remembers recently seen connections so a reconnect carrying `hello.resume` keeps its
// anonymous userId (and, for presence, its connectionId). Bounded in size and age so a flood
// of short connections cannot grow memory.
import { limits } from './defaults'

/** What is remembered about a connection. */
export interface RecentConnection {
  userId: string
  /** When it was last remembered (connected or closed), ms. */
  seenAt: number
}

/** A bounded, age-limited map from connectionId to its user; the oldest entries go first. */
export class RecentConnections {
  readonly #entries = new Map<string, RecentConnection>()
  readonly #maxEntries: number
  readonly #maxAgeMs: number

  constructor(
    maxEntries: number = limits.recentConnections,
    maxAgeMs: number = limits.resumeWindowMs,
  ) {
    this.#maxEntries = maxEntries
    this.#maxAgeMs = maxAgeMs
  }

  /** Entries held. */
  get size(): number {
    return this.#entries.size
  }

  /** Records (or refreshes) `connectionId` as belonging to `userId`. */
  remember(connectionId: string, userId: string, now: number): void {
    // Delete first so re-insertion moves the entry to the young end of the Map's order.
    this.#entries.delete(connectionId)
    this.#entries.set(connectionId, { userId, seenAt: now })
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value as string
      this.#entries.delete(oldest)
    }
  }

  /** The entry for `connectionId` if it is known and recent enough. */
  lookup(connectionId: string | undefined, now: number): RecentConnection | undefined {
    if (connectionId === undefined) return undefined
    const entry = this.#entries.get(connectionId)
    if (entry === undefined) return undefined
    if (now - entry.seenAt > this.#maxAgeMs) {
      this.#entries.delete(connectionId)
      return undefined
    }
    return entry
  }

  /** Forgets everything. */
  clear(): void {
    this.#entries.clear()
  }
}
