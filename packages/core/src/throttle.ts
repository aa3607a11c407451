// Rate-limits chatty sources (cursor moves, typing) without losing the last value: a cursor
// that stops must be drawn where it stopped, so the trailing call is on by default.

import { SynclineError } from './errors'

/** When a {@link throttle}d function runs within each window. */
export interface ThrottleOptions {
  /** Run the first call of a window at once. Default `true`. */
  leading?: boolean
  /** Run the last call of a window when the window ends. Default `true`. */
  trailing?: boolean
}

/** A throttled function: call it as often as you like; it runs at most once per window. */
export interface Throttled<A extends unknown[]> {
  (...args: A): void
  /** Drops a pending trailing call and clears its timer; the next call starts a fresh window. */
  cancel(): void
  /** Runs a pending trailing call now (if any) and clears its timer. */
  flush(): void
}

/**
 * Wraps `fn` so it runs at most once every `waitMs` milliseconds.
 *
 * With the defaults (`leading` and `trailing` both `true`) the first call runs at once, later
 * calls within the window are collapsed, and the last of them runs with its arguments when
 * the window ends — so the final value always arrives. A timer exists only while a trailing
 * call is pending.
 *
 * @param fn - The function to rate-limit.
 * @param waitMs - Window length in milliseconds; finite and `>= 0`.
 * @param options - See {@link ThrottleOptions}.
 * @throws {@link SynclineError} `invalid_argument` when `waitMs` is not a finite number `>= 0`,
 *   or `leading`/`trailing` are not booleans, or are both `false`.
 */
export function throttle<A extends unknown[]>(
  fn: (...args: A) => void,
  waitMs: number,
  options: ThrottleOptions = {},
): Throttled<A> {
  if (typeof waitMs !== 'number' || !Number.isFinite(waitMs) || waitMs < 0) {
    throw new SynclineError(
      'invalid_argument',
      `throttle: waitMs must be a finite number >= 0, got ${String(waitMs)}`,
    )
  }
  const leading = readBoolean(options.leading, 'leading')
  const trailing = readBoolean(options.trailing, 'trailing')
  if (!leading && !trailing) {
    // Both off means fn could never run: surely a mistake rather than a wish.
    throw new SynclineError(
      'invalid_argument',
      'throttle: options.leading and options.trailing cannot both be false (fn would never run)',
    )
  }

  // Time of the last run rather than a timer per window: the window is only armed as a
  // timer when a trailing call actually waits for it, so an idle throttle holds nothing.
  let lastRunAt = Number.NEGATIVE_INFINITY
  let timer: ReturnType<typeof setTimeout> | undefined
  let pendingArgs: A | undefined

  const run = (args: A): void => {
    // State first, so a throwing or re-entrant fn sees a consistent throttle.
    lastRunAt = Date.now()
    fn(...args)
  }

  const clearTimer = (): void => {
    if (timer !== undefined) {
      clearTimeout(timer)
      timer = undefined
    }
  }

  const onWindowEnd = (): void => {
    timer = undefined
    const args = pendingArgs
    pendingArgs = undefined
    if (args !== undefined) run(args)
  }

  const throttled = ((...args: A): void => {
    if (timer !== undefined) {
      // A trailing call is already scheduled: only the newest arguments matter.
      pendingArgs = args
      return
    }
    const elapsed = Date.now() - lastRunAt
    // A negative `elapsed` means the wall clock went backwards; treat it as a fresh window
    // rather than waiting for the clock to catch up.
    const inWindow = elapsed >= 0 && elapsed < waitMs
    if (!inWindow && leading) {
      run(args)
      return
    }
    if (!trailing) return
    pendingArgs = args
    timer = setTimeout(onWindowEnd, inWindow ? waitMs - elapsed : waitMs)
  }) as Throttled<A>

  throttled.cancel = (): void => {
    clearTimer()
    pendingArgs = undefined
    lastRunAt = Number.NEGATIVE_INFINITY
  }

  throttled.flush = (): void => {
    if (timer === undefined) return
    clearTimer()
    onWindowEnd()
  }

  return throttled
}

function readBoolean(value: unknown, name: 'leading' | 'trailing'): boolean {
  if (value === undefined) return true
  if (typeof value !== 'boolean') {
    throw new SynclineError(
      'invalid_argument',
      `throttle: options.${name} must be true or false, got ${String(value)}`,
    )
  }
  return value
}
