// Reconnect delays: exponential growth with FULL jitter on every attempt, so thousands of
// clients dropped by one server restart spread their reconnects over the whole window instead
// of arriving in synchronized waves (AWS "Exponential Backoff And Jitter").

/** Shape of the delay curve. */
export interface BackoffOptions {
  /** Cap of the first delay, in ms. */
  initialDelayMs: number
  /** Upper bound of every delay, in ms. */
  maxDelayMs: number
  /** Growth of the cap per attempt. */
  multiplier: number
}

/** The largest delay attempt number `attempt` (0-based) may wait. */
export function backoffCap(attempt: number, options: BackoffOptions): number {
  // min() before pow() overflows: Infinity is fine for Math.min, NaN is not possible here.
  return Math.min(options.maxDelayMs, options.initialDelayMs * options.multiplier ** attempt)
}

/**
 * Delay before attempt number `attempt` (0-based): uniformly random in [0, cap].
 * `random` returns a number in [0, 1) like `Math.random`; tests inject a seeded one.
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  return Math.floor(random() * backoffCap(attempt, options))
}
