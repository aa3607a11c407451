// Coalesces outbound traffic per socket: every frame a connection is sent during one turn of the
// event loop (document updates relayed to it, its acks, presence, events, replies) is queued in
// the connection's outbox, and all outboxes are flushed together right after the turn's I/O, so
// each socket gets ONE WebSocket message (one write) per turn instead of one per frame. One
// setImmediate for the whole server, and only while something is queued: no added timer delay,
// and nothing left behind after stop().

/** Something with queued frames to write once per turn. */
export interface OutboxOwner {
  /** Writes everything queued (as one message where the protocol allows). */
  flushOutbox(): void
}

/** Flushes the outboxes that have something queued at the end of the current event-loop turn. */
export class OutboxFlusher {
  /** Owners with something queued, each listed once (it schedules when its outbox stops being empty). */
  #dirty: OutboxOwner[] = []
  readonly #onError: (error: unknown) => void
  #immediate: ReturnType<typeof setImmediate> | undefined
  #stopped = false

  readonly #run = (): void => {
    this.#immediate = undefined
    const owners = this.#dirty
    this.#dirty = []
    this.#flushAll(owners)
  }

  #flushAll(owners: OutboxOwner[]): void {
    for (const owner of owners) {
      try {
        owner.flushOutbox()
      } catch (error) {
        this.#onError(error)
      }
    }
  }

  /** @param onError receives what a flush threw (the flusher keeps going). */
  constructor(onError: (error: unknown) => void) {
    this.#onError = onError
  }

  /** Whether a flush is scheduled (counted by `server.stats().timers`). */
  get pending(): boolean {
    return this.#immediate !== undefined
  }

  /**
   * Flushes `owner` at the end of this turn. Call it when the owner's outbox goes from empty to
   * non-empty, so each owner is listed once per turn (flushing an empty outbox is a no-op).
   */
  schedule(owner: OutboxOwner): void {
    if (this.#stopped) return
    this.#dirty.push(owner)
    this.#immediate ??= setImmediate(this.#run)
  }

  /**
   * Called when `owner` closed and dropped its outbox. Its entry, if any, stays listed (flushing
   * an empty outbox is a no-op, and searching the list would cost O(n) per close); a flush
   * scheduled for it alone is cancelled.
   */
  cancel(owner: OutboxOwner): void {
    if (this.#dirty.length !== 1 || this.#dirty[0] !== owner) return
    this.#dirty = []
    if (this.#immediate !== undefined) clearImmediate(this.#immediate)
    this.#immediate = undefined
  }

  /** Drops everything queued and the pending flush (shutdown); later schedules are ignored. */
  stop(): void {
    this.#stopped = true
    this.#dirty = []
    if (this.#immediate !== undefined) clearImmediate(this.#immediate)
    this.#immediate = undefined
  }
}
