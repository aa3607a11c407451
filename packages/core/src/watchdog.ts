// Dead-peer detection. The server pings every `pingIntervalMs`; a connection that has been
// silent for longer than that plus a grace period is dead even if TCP has not noticed (a
// pulled cable is noticed only after minutes). Time is measured on the wall clock, and a
// timer that fires far too late (throttled background tab, sleeping laptop) never proves
// silence on its own: the watchdog probes with a ping first (socket.io#4040, realtime-js#121).

/** What a {@link Watchdog} needs from its owner. */
export interface WatchdogOptions {
  /** Silence longer than this means the peer is dead. */
  timeoutMs: number
  /** How long a probe ping may go unanswered after a late timer. */
  probeTimeoutMs: number
  /** A timer firing up to this much after its schedule is on time. */
  lateTimerToleranceMs: number
  /** Wall clock, in ms. */
  now: () => number
  /** Sends a probe ping. */
  probe: () => void
  /** The peer is dead; the watchdog has stopped itself. */
  dead: (silentForMs: number) => void
}

/** Watches the time since the last received frame; owned by one connection, stopped with it. */
export class Watchdog {
  readonly #options: WatchdogOptions
  #lastFrameAt = 0
  #timer: ReturnType<typeof setTimeout> | undefined
  /** Wall-clock time the pending timer is due; compared with the real firing time. */
  #dueAt = 0
  /** Wall-clock start of the pending probe, if one is out. */
  #probeSentAt: number | undefined

  constructor(options: WatchdogOptions) {
    this.#options = options
  }

  /** Starts watching; counts as a received frame. */
  start(): void {
    this.#lastFrameAt = this.#options.now()
    this.#probeSentAt = undefined
    this.#schedule(this.#options.timeoutMs)
  }

  /** Any frame proves the peer alive. Cheap: no timer is touched. */
  frameReceived(): void {
    this.#lastFrameAt = this.#options.now()
  }

  /**
   * Checks now instead of waiting for the timer, e.g. when the tab becomes visible again and
   * its timers may have been frozen.
   */
  check(): void {
    if (this.#timer === undefined) return
    this.#fire(true)
  }

  /**
   * Sends a probe now and declares the peer dead unless some frame arrives within
   * `probeTimeoutMs`, e.g. when the environment reports the network gone.
   */
  probe(): void {
    if (this.#timer === undefined || this.#probeSentAt !== undefined) return
    this.#sendProbe(this.#options.now())
  }

  /** Stops watching and clears the timer. */
  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
    this.#probeSentAt = undefined
  }

  #schedule(delayMs: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#dueAt = this.#options.now() + delayMs
    this.#timer = setTimeout(() => this.#fire(false), delayMs)
  }

  #fire(unscheduled: boolean): void {
    const { now, timeoutMs, probeTimeoutMs, lateTimerToleranceMs } = this.#options
    const at = now()
    const silentFor = at - this.#lastFrameAt

    if (this.#probeSentAt !== undefined) {
      if (this.#lastFrameAt >= this.#probeSentAt) {
        // The probe (or anything else) was answered: alive, back to normal watching.
        this.#probeSentAt = undefined
        this.#schedule(Math.max(0, timeoutMs - silentFor))
      } else if (at - this.#probeSentAt >= probeTimeoutMs) {
        this.#die(silentFor)
      } else {
        this.#schedule(this.#probeSentAt + probeTimeoutMs - at)
      }
      return
    }

    if (silentFor < timeoutMs) {
      this.#schedule(timeoutMs - silentFor)
      return
    }
    // Silent for too long. If we are checking on time, the silence was observed as it
    // happened; if this timer (or the page) was asleep, the silence may be our own: ask.
    const late = unscheduled || at - this.#dueAt > lateTimerToleranceMs
    if (late) {
      this.#sendProbe(at)
      return
    }
    this.#die(silentFor)
  }

  #sendProbe(at: number): void {
    this.#probeSentAt = at
    this.#schedule(this.#options.probeTimeoutMs)
    this.#options.probe()
  }

  #die(silentFor: number): void {
    this.stop()
    this.#options.dead(silentFor)
  }
}
