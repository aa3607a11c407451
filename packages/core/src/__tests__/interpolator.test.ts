import { afterEach, describe, expect, it, vi } from 'vitest'
import { SynclineError } from '../errors'
import { type CursorInterpolatorOptions, createCursorInterpolator } from '../interpolator'
import type { Point } from '../lerp'

const FRAME = 1000 / 60

/** A requestAnimationFrame we drive by hand: frames run only when the test says, at its time. */
function createFakeRaf() {
  let nextId = 1
  const queue = new Map<number, (timestamp: number) => void>()
  const requestAnimationFrame = vi.fn((callback: (timestamp: number) => void) => {
    const id = nextId++
    queue.set(id, callback)
    return id
  })
  const cancelAnimationFrame = vi.fn((id: number) => {
    queue.delete(id)
  })
  return {
    requestAnimationFrame,
    cancelAnimationFrame,
    get pending() {
      return queue.size
    },
    get pendingIds() {
      return [...queue.keys()]
    },
    /** Runs the frames queued so far with this timestamp; returns how many ran. */
    frame(timestamp: number): number {
      const callbacks = [...queue.values()]
      queue.clear()
      for (const callback of callbacks) callback(timestamp)
      return callbacks.length
    },
  }
}

/** A visibility source the test flips. */
function createFakeVisibility(hidden = false) {
  const listeners = new Set<() => void>()
  return {
    listeners,
    isHidden: () => hidden,
    onVisibilityChange: (listener: () => void) => {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    set(nextHidden: boolean) {
      hidden = nextHidden
      for (const listener of [...listeners]) listener()
    },
  }
}

function setup(options: CursorInterpolatorOptions = {}, hidden = false) {
  const raf = createFakeRaf()
  const visibility = createFakeVisibility(hidden)
  const frames: Point[] = []
  let clock = 0
  const interpolator = createCursorInterpolator({
    requestAnimationFrame: raf.requestAnimationFrame,
    cancelAnimationFrame: raf.cancelAnimationFrame,
    isHidden: visibility.isHidden,
    onVisibilityChange: visibility.onVisibilityChange,
    now: () => clock,
    onFrame: (point) => frames.push({ x: point.x, y: point.y }),
    ...options,
  })
  return {
    raf,
    visibility,
    frames,
    interpolator,
    get clock() {
      return clock
    },
    /** Moves the clock; runs a frame at the new time if one is pending. */
    tick(ms: number) {
      clock += ms
      raf.frame(clock)
    },
    /** Runs 60 Hz frames until none is requested; returns how many ran. */
    runUntilIdle(limit = 1000): number {
      let count = 0
      while (raf.pending > 0 && count < limit) {
        clock += FRAME
        raf.frame(clock)
        count++
      }
      return count
    },
  }
}

function distanceToPath(path: Point[], point: Point): number {
  return Math.min(...path.map((p) => Math.hypot(p.x - point.x, p.y - point.y)))
}

afterEach(() => {
  vi.useRealTimers()
  vi.unstubAllGlobals()
})

describe('createCursorInterpolator', () => {
  it('shows the first position at once, without requesting a frame', () => {
    const t = setup()
    expect(t.interpolator.current).toBeUndefined()
    t.interpolator.push({ x: 10, y: 20 })
    expect(t.interpolator.current).toEqual({ x: 10, y: 20 })
    expect(t.frames).toEqual([{ x: 10, y: 20 }])
    expect(t.raf.requestAnimationFrame).not.toHaveBeenCalled()
  })

  describe('lerp mode', () => {
    it('moves 15% of the distance in one 16.67 ms frame by default', () => {
      const t = setup()
      t.interpolator.push({ x: 0, y: 0 })
      t.interpolator.push({ x: 100, y: 200 })
      expect(t.raf.pending).toBe(1)
      t.tick(FRAME)
      expect(t.interpolator.current!.x).toBeCloseTo(15, 9)
      expect(t.interpolator.current!.y).toBeCloseTo(30, 9)
      t.tick(FRAME)
      expect(t.interpolator.current!.x).toBeCloseTo(15 + 85 * 0.15, 9)
    })

    it('is frame-rate independent: 30, 120 and 240 Hz end where 60 Hz does', () => {
      const positionAfter100ms = (frameMs: number): number => {
        const t = setup()
        t.interpolator.push({ x: 0, y: 0 })
        t.interpolator.push({ x: 100, y: 0 })
        t.tick(FRAME) // the first frame after a start counts as one nominal frame
        const steps = Math.round(100 / frameMs)
        for (let i = 0; i < steps; i++) t.tick(frameMs)
        return t.interpolator.current!.x
      }
      const at60 = positionAfter100ms(1000 / 60)
      expect(at60).toBeCloseTo(100 * (1 - 0.85 ** 7), 6)
      for (const hz of [30, 120, 240]) expect(positionAfter100ms(1000 / hz)).toBeCloseTo(at60, 6)
    })

    it('honours a custom factor', () => {
      const t = setup({ factor: 0.5 })
      t.interpolator.push({ x: 0, y: 0 })
      t.interpolator.push({ x: 100, y: 0 })
      t.tick(FRAME)
      expect(t.interpolator.current!.x).toBeCloseTo(50, 9)
    })

    it('converges exactly on the target, then stops requesting frames', () => {
      const t = setup()
      t.interpolator.push({ x: 0, y: 0 })
      t.interpolator.push({ x: 300, y: -40 })
      const frames = t.runUntilIdle()
      expect(frames).toBeGreaterThan(5)
      expect(frames).toBeLessThan(100)
      expect(t.interpolator.current).toEqual({ x: 300, y: -40 })
      expect(t.frames.at(-1)).toEqual({ x: 300, y: -40 })
      const requests = t.raf.requestAnimationFrame.mock.calls.length
      t.tick(FRAME)
      t.tick(1000)
      expect(t.raf.pending).toBe(0)
      expect(t.raf.requestAnimationFrame).toHaveBeenCalledTimes(requests)
    })

    it('restarts on the next push after converging', () => {
      const t = setup()
      t.interpolator.push({ x: 0, y: 0 })
      t.interpolator.push({ x: 50, y: 0 })
      t.runUntilIdle()
      expect(t.raf.pending).toBe(0)
      t.interpolator.push({ x: 80, y: 0 })
      expect(t.raf.pending).toBe(1)
      t.runUntilIdle()
      expect(t.interpolator.current).toEqual({ x: 80, y: 0 })
    })

    it('requests one frame at a time however many positions arrive', () => {
      const t = setup()
      t.interpolator.push({ x: 0, y: 0 })
      for (let i = 1; i <= 10; i++) t.interpolator.push({ x: i, y: 0 })
      expect(t.raf.requestAnimationFrame).toHaveBeenCalledTimes(1)
      expect(t.raf.pending).toBe(1)
    })
  })

  describe('dispose', () => {
    it('cancels the pending frame and no onFrame follows', () => {
      const t = setup()
      t.interpolator.push({ x: 0, y: 0 })
      t.interpolator.push({ x: 100, y: 0 })
      t.tick(FRAME)
      const [pendingId] = t.raf.pendingIds
      // The pending frame is the one requested last.
      expect(t.raf.requestAnimationFrame.mock.results.at(-1)?.value).toBe(pendingId)
      const before = t.frames.length

      t.interpolator.dispose()
      expect(t.raf.cancelAnimationFrame).toHaveBeenCalledWith(pendingId)
      expect(t.raf.pending).toBe(0)
      t.tick(FRAME)
      expect(t.frames.length).toBe(before)
    })

    it('ignores a frame callback the host runs anyway after dispose', () => {
      const t = setup()
      t.interpolator.push({ x: 0, y: 0 })
      t.interpolator.push({ x: 100, y: 0 })
      const callback = t.raf.requestAnimationFrame.mock.calls[0]![0]
      const before = t.frames.length
      t.interpolator.dispose()
      callback(FRAME)
      expect(t.frames.length).toBe(before)
    })

    it('removes the visibility listener, is idempotent, and later pushes do nothing', () => {
      const t = setup()
      expect(t.visibility.listeners.size).toBe(1)
      t.interpolator.dispose()
      t.interpolator.dispose()
      expect(t.visibility.listeners.size).toBe(0)
      t.interpolator.push({ x: 1, y: 1 })
      expect(t.frames).toEqual([])
      expect(t.raf.requestAnimationFrame).not.toHaveBeenCalled()
    })

    it('with nothing pending does not call cancelAnimationFrame', () => {
      const t = setup()
      t.interpolator.push({ x: 0, y: 0 })
      t.interpolator.dispose()
      expect(t.raf.cancelAnimationFrame).not.toHaveBeenCalled()
    })
  })

  describe('visibility', () => {
    it('requests no frames while hidden and jumps to the latest position on becoming visible', () => {
      const t = setup({}, true)
      t.interpolator.push({ x: 0, y: 0 })
      t.interpolator.push({ x: 40, y: 0 })
      t.interpolator.push({ x: 90, y: 10 })
      expect(t.raf.requestAnimationFrame).not.toHaveBeenCalled()
      expect(t.frames).toEqual([])

      t.visibility.set(false)
      expect(t.interpolator.current).toEqual({ x: 90, y: 10 })
      expect(t.frames).toEqual([{ x: 90, y: 10 }])
      expect(t.raf.pending).toBe(0)

      // And animates normally from there.
      t.interpolator.push({ x: 190, y: 10 })
      t.tick(FRAME)
      expect(t.interpolator.current!.x).toBeCloseTo(105, 9)
    })

    it('cancels the pending frame when the page hides mid-animation', () => {
      const t = setup()
      t.interpolator.push({ x: 0, y: 0 })
      t.interpolator.push({ x: 100, y: 0 })
      t.tick(FRAME)
      const [pendingId] = t.raf.pendingIds
      t.visibility.set(true)
      expect(t.raf.cancelAnimationFrame).toHaveBeenCalledWith(pendingId)
      const requests = t.raf.requestAnimationFrame.mock.calls.length
      t.interpolator.push({ x: 200, y: 50 })
      t.interpolator.push({ x: 300, y: 50 })
      expect(t.raf.requestAnimationFrame).toHaveBeenCalledTimes(requests)

      t.visibility.set(false)
      expect(t.interpolator.current).toEqual({ x: 300, y: 50 })
      expect(t.frames.at(-1)).toEqual({ x: 300, y: 50 })
    })

    it('ignores repeated notifications that change nothing', () => {
      const t = setup()
      t.interpolator.push({ x: 0, y: 0 })
      t.visibility.set(false)
      t.visibility.set(false)
      expect(t.frames).toEqual([{ x: 0, y: 0 }])
    })

    it('reads document.visibilityState by default', () => {
      const listeners = new Set<() => void>()
      const fakeDocument = {
        visibilityState: 'hidden',
        addEventListener: vi.fn((_type: string, listener: () => void) => listeners.add(listener)),
        removeEventListener: vi.fn((_type: string, listener: () => void) =>
          listeners.delete(listener),
        ),
      }
      vi.stubGlobal('document', fakeDocument)
      const raf = createFakeRaf()
      const interpolator = createCursorInterpolator({
        requestAnimationFrame: raf.requestAnimationFrame,
        cancelAnimationFrame: raf.cancelAnimationFrame,
      })
      expect(fakeDocument.addEventListener).toHaveBeenCalledWith(
        'visibilitychange',
        expect.any(Function),
      )
      interpolator.push({ x: 0, y: 0 })
      interpolator.push({ x: 5, y: 5 })
      expect(raf.requestAnimationFrame).not.toHaveBeenCalled()

      fakeDocument.visibilityState = 'visible'
      for (const listener of listeners) listener()
      expect(interpolator.current).toEqual({ x: 5, y: 5 })

      interpolator.dispose()
      expect(listeners.size).toBe(0)
    })
  })

  describe('spline mode', () => {
    // A square traced at the expected rate: 100 px per 50 ms update, corners at each sample.
    const square: Point[] = [
      { x: 0, y: 0 },
      { x: 100, y: 0 },
      { x: 100, y: 100 },
      { x: 0, y: 100 },
      { x: 0, y: 200 },
    ]

    /** Feeds `points` every 50 ms while rendering 1 ms frames; returns the rendered path. */
    function trace(mode: 'lerp' | 'spline', points: Point[]): Point[] {
      const t = setup({ mode })
      let next = 0
      for (let ms = 0; ms <= 2000; ms++) {
        if (next < points.length && ms === next * 50) t.interpolator.push(points[next++]!)
        t.tick(ms === 0 ? 0 : 1)
      }
      expect(t.raf.pending).toBe(0)
      return t.frames
    }

    it('passes through the received intermediate points instead of cutting corners', () => {
      const rendered = trace('spline', square)
      for (const corner of square) expect(distanceToPath(rendered, corner)).toBeLessThan(1.5)
      expect(rendered.at(-1)).toEqual({ x: 0, y: 200 })

      // The lerp mode, for contrast, rounds the corners off by tens of pixels.
      const eased = trace('lerp', square)
      expect(distanceToPath(eased, { x: 100, y: 0 })).toBeGreaterThan(10)
      expect(distanceToPath(eased, { x: 100, y: 100 })).toBeGreaterThan(10)
    })

    it('takes one expected interval per segment, then stops requesting frames', () => {
      const t = setup({ mode: 'spline', expectedIntervalMs: 100 })
      t.interpolator.push({ x: 0, y: 0 })
      t.interpolator.push({ x: 100, y: 0 })
      t.tick(FRAME)
      expect(t.interpolator.current!.x).toBeGreaterThan(0)
      expect(t.interpolator.current!.x).toBeLessThan(50)
      t.tick(50 - FRAME) // halfway through the interval
      expect(t.interpolator.current!.x).toBeCloseTo(50, 6)
      t.tick(50)
      expect(t.interpolator.current).toEqual({ x: 100, y: 0 })
      expect(t.raf.pending).toBe(0)

      t.interpolator.push({ x: 100, y: 100 })
      expect(t.raf.pending).toBe(1)
      t.runUntilIdle()
      expect(t.interpolator.current).toEqual({ x: 100, y: 100 })
    })

    it('catches up when positions arrive faster than expected', () => {
      const t = setup({ mode: 'spline', expectedIntervalMs: 50 })
      t.interpolator.push({ x: 0, y: 0 })
      for (let i = 1; i <= 30; i++) {
        t.tick(10)
        t.interpolator.push({ x: i * 10, y: 0 })
      }
      // 30 segments queued at 10 ms spacing; played at 50 ms each that would be 1.5 s behind.
      const frames = t.runUntilIdle()
      expect(frames * FRAME).toBeLessThan(400)
      expect(t.interpolator.current).toEqual({ x: 300, y: 0 })
    })

    it('restarts the curve from rest after a long pause', () => {
      const t = setup({ mode: 'spline' })
      t.interpolator.push({ x: 0, y: 0 })
      t.tick(50)
      t.interpolator.push({ x: 100, y: 0 })
      t.runUntilIdle()
      t.tick(5000)
      // Heading up now: the stale rightward motion must not swing the cursor right first.
      t.interpolator.push({ x: 100, y: -100 })
      t.runUntilIdle()
      const afterPause = t.frames.slice(t.frames.findIndex((p) => p.y < 0))
      for (const point of afterPause) expect(point.x).toBeCloseTo(100, 6)
      expect(t.interpolator.current).toEqual({ x: 100, y: -100 })
    })
  })

  describe('subscribe', () => {
    it('calls the listener at once with the current position, then on every frame', () => {
      const t = setup()
      const seen: Point[] = []
      const early = vi.fn()
      t.interpolator.subscribe(early)
      expect(early).not.toHaveBeenCalled()

      t.interpolator.push({ x: 0, y: 0 })
      const unsubscribe = t.interpolator.subscribe((p) => seen.push({ ...p }))
      expect(seen).toEqual([{ x: 0, y: 0 }])
      t.interpolator.push({ x: 10, y: 0 })
      t.tick(FRAME)
      expect(seen).toHaveLength(2)
      unsubscribe()
      t.tick(FRAME)
      expect(seen).toHaveLength(2)
      expect(early).toHaveBeenCalledTimes(3)
    })

    it('keeps animating when a listener throws', () => {
      const t = setup()
      t.interpolator.push({ x: 0, y: 0 })
      let calls = 0
      t.interpolator.subscribe(() => {
        // The immediate call on subscribe passes; the next one (a frame) throws.
        if (calls++ > 0) throw new Error('listener bug')
      })
      t.interpolator.push({ x: 100, y: 0 })
      expect(() => t.tick(FRAME)).toThrow('listener bug')
      expect(t.raf.pending).toBe(1)
    })
  })

  describe('without requestAnimationFrame (Node)', () => {
    it('falls back to 16 ms timers and leaves none after converging or dispose', () => {
      vi.useFakeTimers()
      expect(typeof globalThis.requestAnimationFrame).toBe('undefined')
      const interpolator = createCursorInterpolator()
      interpolator.push({ x: 0, y: 0 })
      interpolator.push({ x: 100, y: 0 })
      expect(vi.getTimerCount()).toBe(1)
      vi.advanceTimersByTime(16)
      expect(interpolator.current!.x).toBeCloseTo(15, 9)
      vi.advanceTimersByTime(16)
      expect(interpolator.current!.x).toBeGreaterThan(26)
      vi.advanceTimersByTime(5000)
      expect(interpolator.current).toEqual({ x: 100, y: 0 })
      expect(vi.getTimerCount()).toBe(0)

      interpolator.push({ x: 0, y: 0 })
      expect(vi.getTimerCount()).toBe(1)
      interpolator.dispose()
      expect(vi.getTimerCount()).toBe(0)
    })
  })

  describe('validation', () => {
    const noop = () => {}
    it.each<[CursorInterpolatorOptions, RegExp]>([
      [{ mode: 'bezier' as 'lerp' }, /options\.mode must be 'lerp' or 'spline', got 'bezier'/],
      [{ factor: 0 }, /options\.factor must be a number greater than 0 and at most 1/],
      [{ factor: 1.5 }, /options\.factor/],
      [{ factor: Number.NaN }, /options\.factor/],
      [{ expectedIntervalMs: 0 }, /options\.expectedIntervalMs must be .* greater than 0/],
      [{ expectedIntervalMs: Number.POSITIVE_INFINITY }, /options\.expectedIntervalMs/],
      [{ onFrame: 'draw' as unknown as () => void }, /options\.onFrame must be a function/],
      [
        { requestAnimationFrame: () => 1 },
        /options\.requestAnimationFrame and options\.cancelAnimationFrame must be given together/,
      ],
      [{ cancelAnimationFrame: noop }, /options\.cancelAnimationFrame/],
      [
        { isHidden: () => false },
        /options\.isHidden and options\.onVisibilityChange must be given together/,
      ],
      [{ onVisibilityChange: () => noop }, /options\.onVisibilityChange/],
    ])('rejects %o', (options, message) => {
      expect(() => createCursorInterpolator(options)).toThrow(message)
      expect(() => createCursorInterpolator(options)).toThrow(
        expect.objectContaining({ code: 'invalid_option' }),
      )
      expect(() => createCursorInterpolator(options)).toThrow(SynclineError)
    })

    it('rejects non-finite positions', () => {
      const t = setup()
      expect(() => t.interpolator.push({ x: Number.NaN, y: 0 })).toThrow(/finite/)
      expect(() => t.interpolator.push({ x: 0, y: Number.POSITIVE_INFINITY })).toThrow(
        expect.objectContaining({ code: 'invalid_argument' }),
      )
      expect(() => t.interpolator.push(null as unknown as Point)).toThrow(/point/)
      expect(t.interpolator.current).toBeUndefined()
    })

    it('accepts factor 1 (snap on the next frame)', () => {
      const t = setup({ factor: 1 })
      t.interpolator.push({ x: 0, y: 0 })
      t.interpolator.push({ x: 100, y: 0 })
      t.tick(FRAME)
      expect(t.interpolator.current).toEqual({ x: 100, y: 0 })
      expect(t.raf.pending).toBe(0)
    })
  })
})
