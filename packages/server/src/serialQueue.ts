// Processes a connection's inbound frames strictly in order although some handlers are async
// (authenticate, room permission checks): a client pipelines hello, join and broadcast without
// waiting, and the join must not overtake the hello, nor the broadcast the join.

/**
 * Runs `handler` for each pushed item, one at a time, in push order. Synchronous handlers run
 * immediately (no promise per frame on the hot path); an async one pauses the queue until it
 * settles. Errors go to `onError` and do not stop the queue.
 */
export class SerialQueue<T> {
  readonly #handler: (item: T) => void | Promise<void>
  readonly #onError: (error: unknown) => void
  readonly #items: T[] = []
  #running = false
  #disposed = false

  constructor(handler: (item: T) => void | Promise<void>, onError: (error: unknown) => void) {
    this.#handler = handler
    this.#onError = onError
  }

  /** Items waiting (not counting one being handled). */
  get size(): number {
    return this.#items.length
  }

  /** Queues `item`; handles it now if nothing is in progress. */
  push(item: T): void {
    if (this.#disposed) return
    this.#items.push(item)
    if (!this.#running) this.#drain()
  }

  /** Drops waiting items and ignores future pushes; an in-flight async handler still settles. */
  dispose(): void {
    this.#disposed = true
    this.#items.length = 0
  }

  #drain(): void {
    this.#running = true
    while (!this.#disposed && this.#items.length > 0) {
      const item = this.#items.shift() as T
      let result: void | Promise<void>
      try {
        result = this.#handler(item)
      } catch (error) {
        this.#onError(error)
        continue
      }
      if (result instanceof Promise) {
        result.then(
          () => this.#drain(),
          (error: unknown) => {
            this.#onError(error)
            this.#drain()
          },
        )
        return
      }
    }
    this.#running = false
  }
}
