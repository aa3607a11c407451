// Room traffic made while it cannot be sent waits here. Bounded by count and bytes so a long
// offline spell cannot eat memory (PartySocket's queue is unbounded); overflow drops the
// oldest entries and hands every dropped one to `onDrop`, so nothing is lost silently.

/** Why an entry left the queue without being sent. */
export type DropReason =
  /** The queue was full (by count or bytes); the oldest entries made room. */
  | 'overflow'
  /** The entry alone is larger than the queue's byte bound, or than the server accepts. */
  | 'too_large'
  /** Its room was left or denied before it could be sent. */
  | 'room_closed'
  /** The client was destroyed. */
  | 'destroyed'

/** One queued intent. */
export interface QueueEntry<T> {
  /** The queued value (for the client: a room intent, encoded only when sent). */
  value: T
  /** Approximate size in bytes, counted against `maxBytes`. */
  bytes: number
  /** Entries with the same key coalesce: a newer one replaces the older (presence). */
  key?: string
}

/** Bounds of an {@link OfflineQueue}. */
export interface OfflineQueueOptions<T> {
  maxMessages: number
  maxBytes: number
  /** Called once for every entry that will never be sent. */
  onDrop: (entry: QueueEntry<T>, reason: DropReason) => void
}

/** A FIFO bounded by count and bytes, with keyed coalescing. Pure logic, no timers. */
export class OfflineQueue<T> {
  readonly #options: OfflineQueueOptions<T>
  #entries: QueueEntry<T>[] = []
  #bytes = 0

  constructor(options: OfflineQueueOptions<T>) {
    this.#options = options
  }

  /** Number of queued entries. */
  get size(): number {
    return this.#entries.length
  }

  /** Sum of the queued entries' sizes. */
  get bytes(): number {
    return this.#bytes
  }

  /**
   * Appends `entry`. An entry with a key first replaces a queued one with the same key (it is
   * superseded, not dropped: the newer value carries the intent). Then the oldest entries are
   * dropped until both bounds hold.
   */
  push(entry: QueueEntry<T>): void {
    if (entry.bytes > this.#options.maxBytes) {
      this.#options.onDrop(entry, 'too_large')
      return
    }
    if (entry.key !== undefined) {
      const index = this.#entries.findIndex((queued) => queued.key === entry.key)
      if (index !== -1) {
        this.#bytes -= this.#entries[index]!.bytes
        this.#entries.splice(index, 1)
      }
    }
    this.#entries.push(entry)
    this.#bytes += entry.bytes
    while (
      this.#entries.length > this.#options.maxMessages ||
      this.#bytes > this.#options.maxBytes
    ) {
      const oldest = this.#entries.shift()!
      this.#bytes -= oldest.bytes
      this.#options.onDrop(oldest, 'overflow')
    }
  }

  /** Removes and returns, in order, the entries that match `predicate`. */
  take(predicate: (value: T) => boolean): QueueEntry<T>[] {
    const taken: QueueEntry<T>[] = []
    const kept: QueueEntry<T>[] = []
    for (const entry of this.#entries) (predicate(entry.value) ? taken : kept).push(entry)
    this.#entries = kept
    for (const entry of taken) this.#bytes -= entry.bytes
    return taken
  }

  /** Drops the entries that match `predicate`, reporting each with `reason`. */
  drop(predicate: (value: T) => boolean, reason: DropReason): void {
    for (const entry of this.take(predicate)) this.#options.onDrop(entry, reason)
  }

  /** Values in queue order (for inspection and tests). */
  values(): T[] {
    return this.#entries.map((entry) => entry.value)
  }
}
