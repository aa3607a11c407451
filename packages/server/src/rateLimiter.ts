// Per-connection token bucket: a client may burst (a reconnect replays joins and queued
// updates) but cannot sustain more than the configured rate. Pure functions over a small
// state object, so the rule is unit-testable without sockets or timers.

/** State of one token bucket. */
export interface TokenBucket {
  /** Tokens available now (fractional while refilling). */
  tokens: number
  /** When `tokens` was last brought up to date, in ms. */
  updatedAt: number
  /** Refill rate, tokens per ms. */
  readonly perMs: number
  /** Capacity. */
  readonly burst: number
}

/** A full bucket refilling at `perSecond` tokens per second up to `burst` tokens. */
export function createTokenBucket(perSecond: number, burst: number, now: number): TokenBucket {
  return { tokens: burst, updatedAt: now, perMs: perSecond / 1000, burst }
}

/**
 * Takes `count` tokens at time `now`. Returns false (and takes nothing) when the bucket holds
 * fewer than `count`: the caller refuses the frames.
 */
export function takeTokens(bucket: TokenBucket, count: number, now: number): boolean {
  const elapsed = Math.max(0, now - bucket.updatedAt)
  bucket.tokens = Math.min(bucket.burst, bucket.tokens + elapsed * bucket.perMs)
  bucket.updatedAt = now
  if (bucket.tokens < count) return false
  bucket.tokens -= count
  return true
}
