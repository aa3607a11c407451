// Remembers recently seen connections by their secret resume token, so a reconnect carrying
// `hello.resume` keeps its anonymous userId and its connectionId. Keyed by the token, not the
// connectionId, because every room member sees connectionIds. Bounded in size and age so a
// flood of short connections cannot grow memory.
import { limits } from './defaults'

/** What is remembered about a connection. */
export interface RecentConnection {
  userId: string
  connectionId: string
  /** When it was last remembered (connected or closed), ms. */
  seenAt: number
}

/** A bounded, age-limited map from resume token to its connection; the oldest entries go first. */
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

  /** Records (or refreshes) the connection that `resumeToken` resumes. */
  remember(resumeToken: string, connectionId: string, userId: string, now: number): void {
    // Delete first so re-insertion moves the entry to the young end of the Map's order.
    this.#entries.delete(resumeToken)
    this.#entries.set(resumeToken, { userId, connectionId, seenAt: now })
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value as string
      this.#entries.delete(oldest)
    }
  }

  /** The connection `resumeToken` resumes, if it is known and recent enough. */
  lookup(resumeToken: string | undefined, now: number): RecentConnection | undefined {
    if (resumeToken === undefined) return undefined
    const entry = this.#entries.get(resumeToken)
    if (entry === undefined) return undefined
    if (now - entry.seenAt > this.#maxAgeMs) {
      this.#entries.delete(resumeToken)
      return undefined
    }
    return entry
  }

  /** Forgets one token: a resume token is good for one resume. */
  forget(resumeToken: string): void {
    this.#entries.delete(resumeToken)
  }

  /** Forgets everything. */
  clear(): void {
    this.#entries.clear()
  }
}
