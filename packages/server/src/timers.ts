// Every timer the server starts goes through one TimerSet, so close() can clear them all and
// stats() can prove that none outlives its owner (the leak class users keep reporting).

/** Handle returned by {@link TimerSet}. */
export type TimerHandle = ReturnType<typeof setTimeout>

/** Owns a set of timers: counts them, clears them one by one or all at once. */
export class TimerSet {
  readonly #timers = new Set<TimerHandle>()

  /** Live timers. */
  get size(): number {
    return this.#timers.size
  }

  /** Like `setTimeout`; the timer is forgotten once it fires. */
  timeout(callback: () => void, ms: number): TimerHandle {
    const handle = setTimeout(() => {
      this.#timers.delete(handle)
      callback()
    }, ms)
    this.#timers.add(handle)
    return handle
  }

  /** Like `setInterval`. */
  interval(callback: () => void, ms: number): TimerHandle {
    const handle = setInterval(callback, ms)
    this.#timers.add(handle)
    return handle
  }

  /** Clears one timer (either kind); `undefined` is ignored. */
  clear(handle: TimerHandle | undefined): void {
    if (handle === undefined) return
    clearTimeout(handle)
    clearInterval(handle)
    this.#timers.delete(handle)
  }

  /** Clears every timer. */
  clearAll(): void {
    for (const handle of this.#timers) {
      clearTimeout(handle)
      clearInterval(handle)
    }
    this.#timers.clear()
  }
}
