import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { SynclineError } from '../errors'
import { throttle } from '../throttle'

beforeEach(() => {
  vi.useFakeTimers()
  vi.setSystemTime(1_000_000)
})

afterEach(() => {
  vi.useRealTimers()
})

/** Calls `fn(i)` at 60 Hz for one second (60 calls), then lets every timer run. */
function callAt60HzForOneSecond(fn: (i: number) => void): void {
  let elapsed = 0
  for (let i = 0; i < 60; i++) {
    const at = Math.round((i * 1000) / 60)
    vi.advanceTimersByTime(at - elapsed)
    elapsed = at
    fn(i)
  }
  vi.advanceTimersByTime(1000)
}

describe('throttle', () => {
  it('at 60 Hz for 1 s with waitMs 50: at most 21 runs, spaced >= 50 ms, ending on the final value', () => {
    const runs: { value: number; at: number }[] = []
    const throttled = throttle((value: number) => runs.push({ value, at: Date.now() }), 50)
    callAt60HzForOneSecond(throttled)

    expect(runs.length).toBeLessThanOrEqual(21)
    expect(runs.length).toBeGreaterThanOrEqual(19)
    expect(runs[0]?.value).toBe(0)
    expect(runs.at(-1)?.value).toBe(59)
    for (let i = 1; i < runs.length; i++) {
      expect(runs[i]!.at - runs[i - 1]!.at).toBeGreaterThanOrEqual(50)
    }
    expect(vi.getTimerCount()).toBe(0)
  })

  it('runs the first call at once (leading) and leaves no timer when nothing else comes', () => {
    const fn = vi.fn()
    const throttled = throttle(fn, 50)
    throttled('a', 1)
    expect(fn).toHaveBeenCalledTimes(1)
    expect(fn).toHaveBeenLastCalledWith('a', 1)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('collapses calls within the window and runs the last arguments at its end', () => {
    const fn = vi.fn()
    const throttled = throttle(fn, 50)
    throttled(1)
    vi.advanceTimersByTime(10)
    throttled(2)
    vi.advanceTimersByTime(10)
    throttled(3)
    expect(fn).toHaveBeenCalledTimes(1)
    expect(vi.getTimerCount()).toBe(1)

    vi.advanceTimersByTime(29)
    expect(fn).toHaveBeenCalledTimes(1)
    vi.advanceTimersByTime(1)
    expect(fn).toHaveBeenCalledTimes(2)
    expect(fn).toHaveBeenLastCalledWith(3)
    // No timer survives the trailing call.
    expect(vi.getTimerCount()).toBe(0)
  })

  it('starts the next window at the trailing call', () => {
    const fn = vi.fn()
    const throttled = throttle(fn, 50)
    throttled(1) // t = 0, runs
    vi.advanceTimersByTime(10)
    throttled(2) // trailing at t = 50
    vi.advanceTimersByTime(45)
    expect(fn).toHaveBeenLastCalledWith(2)
    throttled(3) // t = 55: within the window opened at 50, so waits until 100
    expect(fn).toHaveBeenCalledTimes(2)
    vi.advanceTimersByTime(44)
    expect(fn).toHaveBeenCalledTimes(2)
    vi.advanceTimersByTime(1)
    expect(fn).toHaveBeenCalledTimes(3)
    expect(fn).toHaveBeenLastCalledWith(3)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('runs again at once after a quiet window', () => {
    const fn = vi.fn()
    const throttled = throttle(fn, 50)
    throttled(1)
    vi.advanceTimersByTime(50)
    throttled(2)
    expect(fn).toHaveBeenCalledTimes(2)
    expect(fn).toHaveBeenLastCalledWith(2)
  })

  describe('trailing: false', () => {
    it('drops calls within the window and never holds a timer', () => {
      const fn = vi.fn()
      const throttled = throttle(fn, 50, { trailing: false })
      throttled(1)
      vi.advanceTimersByTime(10)
      throttled(2)
      expect(vi.getTimerCount()).toBe(0)
      vi.advanceTimersByTime(100)
      expect(fn).toHaveBeenCalledTimes(1)
      expect(fn).toHaveBeenLastCalledWith(1)

      throttled(3)
      expect(fn).toHaveBeenCalledTimes(2)
      expect(fn).toHaveBeenLastCalledWith(3)
    })

    it('at 60 Hz for 1 s runs at most once per 50 ms', () => {
      const runs: number[] = []
      callAt60HzForOneSecond(throttle((i: number) => runs.push(i), 50, { trailing: false }))
      expect(runs.length).toBeLessThanOrEqual(20)
      expect(runs[0]).toBe(0)
      expect(vi.getTimerCount()).toBe(0)
    })
  })

  describe('leading: false', () => {
    it('waits for the window to end and runs the last arguments', () => {
      const fn = vi.fn()
      const throttled = throttle(fn, 50, { leading: false })
      throttled(1)
      expect(fn).not.toHaveBeenCalled()
      vi.advanceTimersByTime(20)
      throttled(2)
      vi.advanceTimersByTime(29)
      expect(fn).not.toHaveBeenCalled()
      vi.advanceTimersByTime(1)
      expect(fn).toHaveBeenCalledTimes(1)
      expect(fn).toHaveBeenLastCalledWith(2)
      expect(vi.getTimerCount()).toBe(0)
    })

    it('at 60 Hz for 1 s: at most 21 runs and the final value arrives', () => {
      const runs: number[] = []
      callAt60HzForOneSecond(throttle((i: number) => runs.push(i), 50, { leading: false }))
      expect(runs.length).toBeLessThanOrEqual(21)
      expect(runs[0]).not.toBe(0)
      expect(runs.at(-1)).toBe(59)
      expect(vi.getTimerCount()).toBe(0)
    })
  })

  describe('cancel', () => {
    it('drops the pending trailing call and clears its timer', () => {
      const fn = vi.fn()
      const throttled = throttle(fn, 50)
      throttled(1)
      throttled(2)
      expect(vi.getTimerCount()).toBe(1)
      throttled.cancel()
      expect(vi.getTimerCount()).toBe(0)
      vi.advanceTimersByTime(1000)
      expect(fn).toHaveBeenCalledTimes(1)
      expect(fn).toHaveBeenLastCalledWith(1)
    })

    it('starts a fresh window: the next call runs at once', () => {
      const fn = vi.fn()
      const throttled = throttle(fn, 50)
      throttled(1)
      vi.advanceTimersByTime(10)
      throttled.cancel()
      throttled(2)
      expect(fn).toHaveBeenCalledTimes(2)
      expect(fn).toHaveBeenLastCalledWith(2)
    })

    it('is harmless with nothing pending', () => {
      const fn = vi.fn()
      const throttled = throttle(fn, 50)
      throttled.cancel()
      expect(fn).not.toHaveBeenCalled()
      expect(vi.getTimerCount()).toBe(0)
    })
  })

  describe('flush', () => {
    it('runs the pending trailing call now, with the latest arguments, and clears the timer', () => {
      const fn = vi.fn()
      const throttled = throttle(fn, 50)
      throttled(1)
      throttled(2)
      throttled(3)
      throttled.flush()
      expect(fn).toHaveBeenCalledTimes(2)
      expect(fn).toHaveBeenLastCalledWith(3)
      expect(vi.getTimerCount()).toBe(0)
      vi.advanceTimersByTime(1000)
      expect(fn).toHaveBeenCalledTimes(2)
    })

    it('does nothing when no trailing call is pending', () => {
      const fn = vi.fn()
      const throttled = throttle(fn, 50)
      throttled.flush()
      expect(fn).not.toHaveBeenCalled()
      throttled(1)
      throttled.flush()
      expect(fn).toHaveBeenCalledTimes(1)
    })

    it('counts as a run: a call right after waits for the window', () => {
      const fn = vi.fn()
      const throttled = throttle(fn, 50)
      throttled(1)
      throttled(2)
      throttled.flush()
      throttled(3)
      expect(fn).toHaveBeenCalledTimes(2)
      vi.advanceTimersByTime(50)
      expect(fn).toHaveBeenLastCalledWith(3)
      expect(vi.getTimerCount()).toBe(0)
    })
  })

  it('with waitMs 0 runs every call at once', () => {
    const fn = vi.fn()
    const throttled = throttle(fn, 0)
    throttled(1)
    throttled(2)
    expect(fn).toHaveBeenCalledTimes(2)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('treats a wall clock that jumped backwards as a fresh window', () => {
    const fn = vi.fn()
    const throttled = throttle(fn, 50)
    throttled(1)
    vi.setSystemTime(Date.now() - 60_000)
    throttled(2)
    expect(fn).toHaveBeenCalledTimes(2)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('stays usable after fn throws', () => {
    const fn = vi.fn((value: number) => {
      if (value === 1) throw new Error('boom')
    })
    const throttled = throttle(fn, 50)
    expect(() => throttled(1)).toThrow('boom')
    throttled(2)
    vi.advanceTimersByTime(50)
    expect(fn).toHaveBeenLastCalledWith(2)
    expect(vi.getTimerCount()).toBe(0)
  })

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY, '50' as unknown as number])(
    'rejects waitMs = %s with an error naming waitMs',
    (waitMs) => {
      expect(() => throttle(() => {}, waitMs)).toThrow(/waitMs/)
      expect(() => throttle(() => {}, waitMs)).toThrow(
        expect.objectContaining({ name: 'SynclineError', code: 'invalid_argument' }),
      )
      expect(() => throttle(() => {}, waitMs)).toThrow(SynclineError)
    },
  )

  it('rejects non-boolean leading/trailing and both false', () => {
    expect(() => throttle(() => {}, 50, { leading: 'yes' as unknown as boolean })).toThrow(
      /options\.leading/,
    )
    expect(() => throttle(() => {}, 50, { trailing: 0 as unknown as boolean })).toThrow(
      /options\.trailing/,
    )
    expect(() => throttle(() => {}, 50, { leading: false, trailing: false })).toThrow(
      /leading and options\.trailing/,
    )
  })
})
