// Liveness for every authenticated connection with ONE server-wide interval (not a timer per
// socket): each sweep pings the connections that are due and closes those silent for longer
// than the timeout. The decision is a pure function so the rule is testable on its own.
import type { TimerHandle, TimerSet } from './timers'

/** What the heartbeat needs from a connection. */
export interface HeartbeatTarget {
  /** When the last frame (any frame, pong included) arrived, ms. */
  readonly lastSeen: number
  /** When the server last pinged it, ms. */
  readonly lastPingAt: number
  /** Sends a ping frame with `id`. */
  ping(id: number): void
  /** Closes the connection for silence. */
  timeOut(): void
}

/** Timing of a {@link Heartbeat}. */
export interface HeartbeatTiming {
  pingIntervalMs: number
  timeoutMs: number
  /** How often the sweep runs; see {@link sweepIntervalMs}. */
  sweepMs: number
}

/**
 * The sweep period: at most the ping interval, and a tenth of the timeout so a silent peer is
 * closed at most 10% late (a sweep per ping interval could be a third late).
 */
export function sweepIntervalMs(pingIntervalMs: number, timeoutMs: number): number {
  return Math.max(1, Math.min(pingIntervalMs, Math.ceil(timeoutMs / 10)))
}

/** What a sweep at `now` does to `target`. Pings may go up to half a sweep early, never late. */
export function heartbeatAction(
  target: Pick<HeartbeatTarget, 'lastSeen' | 'lastPingAt'>,
  now: number,
  timing: HeartbeatTiming,
): 'timeout' | 'ping' | 'none' {
  if (now - target.lastSeen >= timing.timeoutMs) return 'timeout'
  if (now - target.lastPingAt >= timing.pingIntervalMs - timing.sweepMs / 2) return 'ping'
  return 'none'
}

/** Runs the sweep while started; `afterSweep` piggybacks other periodic upkeep on it. */
export class Heartbeat {
  readonly #timers: TimerSet
  readonly #timing: HeartbeatTiming
  readonly #targets: () => Iterable<HeartbeatTarget>
  readonly #now: () => number
  readonly #afterSweep: (now: number) => void
  #handle: TimerHandle | undefined
  #nextPingId = 1

  constructor(
    timers: TimerSet,
    timing: Omit<HeartbeatTiming, 'sweepMs'>,
    targets: () => Iterable<HeartbeatTarget>,
    now: () => number,
    afterSweep: (now: number) => void = () => {},
  ) {
    this.#timers = timers
    this.#timing = { ...timing, sweepMs: sweepIntervalMs(timing.pingIntervalMs, timing.timeoutMs) }
    this.#targets = targets
    this.#now = now
    this.#afterSweep = afterSweep
  }

  /** Starts sweeping; idempotent. */
  start(): void {
    if (this.#handle !== undefined) return
    this.#handle = this.#timers.interval(() => this.sweep(), this.#timing.sweepMs)
  }

  /** Stops sweeping; idempotent. */
  stop(): void {
    this.#timers.clear(this.#handle)
    this.#handle = undefined
  }

  /** One pass over all targets. */
  sweep(): void {
    const now = this.#now()
    // Copy first: timing out a target removes it from the collection being iterated.
    for (const target of [...this.#targets()]) {
      const action = heartbeatAction(target, now, this.#timing)
      if (action === 'timeout') target.timeOut()
      else if (action === 'ping') target.ping(this.#nextPingId++)
    }
    this.#afterSweep(now)
  }
}
