import { seededRandom } from '@syncline/test-utils'
import { describe, expect, it } from 'vitest'
import { backoffCap, backoffDelay } from '../backoff'
import { DEFAULT_BACKOFF } from '../defaults'

describe('backoff', () => {
  it('grows the cap exponentially from initialDelayMs up to maxDelayMs', () => {
    const caps = Array.from({ length: 9 }, (_, attempt) => backoffCap(attempt, DEFAULT_BACKOFF))
    expect(caps).toEqual([250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000])
  })

  it('does not overflow for huge attempt numbers', () => {
    expect(backoffCap(10_000, DEFAULT_BACKOFF)).toBe(10_000)
  })

  it('applies full jitter: every delay in [0, cap], mean about half the cap, well spread', () => {
    const random = seededRandom(42)
    for (const attempt of [0, 3, 20]) {
      const cap = backoffCap(attempt, DEFAULT_BACKOFF)
      const samples = Array.from({ length: 5000 }, () =>
        backoffDelay(attempt, DEFAULT_BACKOFF, random),
      )
      expect(Math.min(...samples)).toBeGreaterThanOrEqual(0)
      expect(Math.max(...samples)).toBeLessThanOrEqual(cap)
      const mean = samples.reduce((sum, value) => sum + value, 0) / samples.length
      expect(mean).toBeGreaterThan(cap * 0.45)
      expect(mean).toBeLessThan(cap * 0.55)
      // Full jitter reaches both ends of the window, not a band around the cap.
      expect(samples.filter((value) => value < cap * 0.1).length).toBeGreaterThan(250)
      expect(samples.filter((value) => value > cap * 0.9).length).toBeGreaterThan(250)
      // Not all equal: most of the possible integer delays actually occur.
      expect(new Set(samples).size).toBeGreaterThan(Math.min(cap, samples.length) / 2)
    }
  })

  it('uses the injected random source', () => {
    expect(backoffDelay(2, DEFAULT_BACKOFF, () => 0)).toBe(0)
    expect(backoffDelay(2, DEFAULT_BACKOFF, () => 0.5)).toBe(500)
    expect(backoffDelay(2, DEFAULT_BACKOFF, () => 0.999_999)).toBe(999)
  })
})
