// Coalesces presence traffic: rooms with changes are flushed together once per tick, and every
// frame one socket gets in that tick goes out as ONE WebSocket message (a batch). One timer for
// the whole server, and only while something is pending.
import type { TimerHandle, TimerSet } from './timers'

/** Something that can receive a tick's frames. */
export interface TickRecipient {
  /**
   * Sends the frames queued for this recipient in one tick: native connections as ONE batch
   * message, y-websocket connections one message each (their protocol has no batch).
   */
  sendTick(frames: Uint8Array[]): void
}

/** A room (or anything) with presence changes to flush. */
export interface TickSource {
  /** Pushes this tick's frames into `enqueue`, one call per recipient and frame. */
  flushPresence(enqueue: (recipient: TickRecipient, bytes: Uint8Array) => void): void
}

/** Runs presence flushes at most once per `tickMs`. */
export class PresenceTicker {
  readonly #timers: TimerSet
  readonly #tickMs: number
  readonly #dirty = new Set<TickSource>()
  #timer: TimerHandle | undefined
  /** When the pending tick is due (wall clock). */
  #dueAt = 0
  readonly #now: () => number

  constructor(timers: TimerSet, tickMs: number, now: () => number = Date.now) {
    this.#timers = timers
    this.#tickMs = tickMs
    this.#now = now
  }

  /** Flushes `source` on the next tick (starting the tick timer if idle). */
  schedule(source: TickSource): void {
    this.#dirty.add(source)
    if (this.#timer !== undefined) return
    this.#dueAt = this.#now() + this.#tickMs
    this.#timer = this.#timers.timeout(() => this.tick(), this.#tickMs)
  }

  /**
   * Runs an overdue tick now. Called before a pending presence is replaced: when the event loop
   * is behind, the tick timer fires late, and a sender's previous position would otherwise be
   * coalesced away although it is older than one tick. Never flushes a tick early.
   */
  catchUp(): void {
    if (this.#timer !== undefined && this.#now() >= this.#dueAt) this.tick()
  }

  /** Forgets `source` (it was disposed); stops the timer when nothing else is pending. */
  cancel(source: TickSource): void {
    this.#dirty.delete(source)
    if (this.#dirty.size > 0) return
    this.#timers.clear(this.#timer)
    this.#timer = undefined
  }

  /** Flushes everything now. */
  tick(): void {
    this.#timers.clear(this.#timer)
    this.#timer = undefined
    const outbox = new Map<TickRecipient, Uint8Array[]>()
    const enqueue = (recipient: TickRecipient, bytes: Uint8Array) => {
      const frames = outbox.get(recipient)
      if (frames === undefined) outbox.set(recipient, [bytes])
      else frames.push(bytes)
    }
    const sources = [...this.#dirty]
    this.#dirty.clear()
    for (const source of sources) source.flushPresence(enqueue)
    for (const [recipient, frames] of outbox) recipient.sendTick(frames)
  }

  /** Drops pending work and the timer (shutdown). */
  stop(): void {
    this.#timers.clear(this.#timer)
    this.#timer = undefined
    this.#dirty.clear()
  }
}
