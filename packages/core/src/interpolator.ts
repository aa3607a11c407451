// Remote cursors arrive as sparse samples (throttled to ~20 Hz); drawn raw they jump, so this
// animates a rendered position between samples at display rate, and owns its frame loop.

import { DEFAULT_PRESENCE_THROTTLE_MS } from './defaults'
import { SynclineError } from './errors'
import { lerpPoint, type Point } from './lerp'

/** How a {@link CursorInterpolator} moves between received positions. */
export type CursorInterpolationMode = 'lerp' | 'spline'

/** Options for {@link createCursorInterpolator}. */
export interface CursorInterpolatorOptions {
  /**
   * `'lerp'` (default) eases toward the latest position: lowest latency, but cuts corners.
   * `'spline'` follows a Catmull-Rom curve through the received positions, one segment per
   * expected update interval: the real path, about one interval behind.
   */
  mode?: CursorInterpolationMode
  /**
   * Fraction of the remaining distance covered per 60 Hz frame in `'lerp'` mode, in `(0, 1]`.
   * Default `0.15`. Scaled by the real frame time, so motion speed does not depend on the
   * display's refresh rate.
   */
  factor?: number
  /** How often positions are expected to arrive, in ms (`'spline'` mode). Default `50`. */
  expectedIntervalMs?: number
  /** Called with the rendered position on every frame that moves it (and on jumps). */
  onFrame?: (point: Readonly<Point>) => void
  /**
   * Schedules a frame. Defaults to `globalThis.requestAnimationFrame`, or a 16 ms `setTimeout`
   * where there is none (Node). Give it together with `cancelAnimationFrame`.
   */
  requestAnimationFrame?: (callback: (timestamp: number) => void) => number
  /** Cancels a frame scheduled by `requestAnimationFrame`. Give them together. */
  cancelAnimationFrame?: (handle: number) => void
  /**
   * Whether the page is hidden now. Defaults to `document.visibilityState === 'hidden'` where a
   * `document` exists, else never hidden. Give it together with `onVisibilityChange`.
   */
  isHidden?: () => boolean
  /** Subscribes to visibility changes; returns the unsubscribe. Give it with `isHidden`. */
  onVisibilityChange?: (listener: () => void) => () => void
  /**
   * Clock in ms, used for the gaps between received positions and for the timestamps of the
   * `setTimeout` fallback frames. Defaults to `performance.now()`.
   */
  now?: () => number
}

/** Animates a rendered cursor between positions received from the network. */
export interface CursorInterpolator {
  /** The rendered position; `undefined` until the first {@link CursorInterpolator.push}. */
  readonly current: Readonly<Point> | undefined
  /**
   * Feeds a received position. The first one is shown at once; later ones are animated to.
   * Ignored after `dispose()`. Throws {@link SynclineError} `invalid_argument` unless `x` and
   * `y` are finite numbers.
   */
  push(point: Point): void
  /**
   * Calls `listener` with the rendered position now (if there is one) and on every change.
   * Positions are fresh objects per frame; treat them as read-only. Returns the unsubscribe.
   */
  subscribe(listener: (point: Readonly<Point>) => void): () => void
  /** Cancels the pending animation frame and removes the visibility listener. Idempotent. */
  dispose(): void
}

// Frame length the lerp factor is expressed in: 60 Hz is what "15% per frame" was tuned on.
const REFERENCE_FRAME_MS = 1000 / 60
// Below a tenth of a pixel further frames are invisible work, so the loop stops there.
const CONVERGED_PX = 0.1
// Gentle enough to hide a 50 ms update gap, quick enough to settle in ~300 ms.
const DEFAULT_FACTOR = 0.15
// Positions arrive at the rate presence is throttled to, so that is the interval to expect.
const DEFAULT_EXPECTED_INTERVAL_MS = DEFAULT_PRESENCE_THROTTLE_MS
// Roughly one 60 Hz frame, for runtimes without requestAnimationFrame.
const FALLBACK_FRAME_MS = 16
// After a pause this long the old path no longer says where the cursor is heading, so the
// curve restarts from rest instead of swinging out along a stale direction.
const STALE_PATH_INTERVALS = 3

/**
 * Creates a {@link CursorInterpolator}.
 *
 * It requests animation frames only while the rendered position is moving: it stops once
 * within 0.1 px of the target and restarts on the next push. While the page is hidden it
 * requests none, and on becoming visible jumps straight to the latest position.
 *
 * @throws {@link SynclineError} `invalid_option` naming the offending option and its accepted
 *   values.
 */
export function createCursorInterpolator(
  options: CursorInterpolatorOptions = {},
): CursorInterpolator {
  const mode = readMode(options.mode)
  const factor = readNumber(
    'factor',
    options.factor,
    DEFAULT_FACTOR,
    (value) => value > 0 && value <= 1,
    'a number greater than 0 and at most 1',
  )
  const intervalMs = readNumber(
    'expectedIntervalMs',
    options.expectedIntervalMs,
    DEFAULT_EXPECTED_INTERVAL_MS,
    (value) => value > 0,
    'a finite number of milliseconds greater than 0',
  )
  const onFrame = readFunction('onFrame', options.onFrame)
  const now = readFunction('now', options.now) ?? defaultNow
  const scheduler = createFrameScheduler(options, now)
  const visibility = createVisibilitySource(options)

  const listeners = new Set<(point: Readonly<Point>) => void>()
  if (onFrame) listeners.add(onFrame)

  let current: Point | undefined
  let target: Point | undefined
  // Spline state: the rendered position is `progress` of the way along the segment from
  // path[segment] to path[segment + 1]; path[segment - 1] is kept only for its tangent.
  let path: Point[] = []
  let segment = 0
  let progress = 0
  let lastPushAt = Number.NEGATIVE_INFINITY
  let frameRequested = false
  let lastFrameAt: number | undefined
  let disposed = false
  let hidden = visibility.isHidden()

  const emit = (point: Point): void => {
    for (const listener of [...listeners]) listener(point)
  }

  const requestFrame = (): void => {
    if (frameRequested || hidden || disposed) return
    frameRequested = true
    scheduler.request(onAnimationFrame)
  }

  const stopLoop = (): void => {
    if (frameRequested) {
      frameRequested = false
      scheduler.cancel()
    }
    lastFrameAt = undefined
  }

  const jumpTo = (point: Point): void => {
    stopLoop()
    current = { x: point.x, y: point.y }
    path = [current]
    segment = 0
    progress = 0
    emit(current)
  }

  const stepLerp = (from: Point, to: Point, dt: number): boolean => {
    // Compounding the per-frame factor over dt/16.67 frames gives the same motion at 30, 60
    // or 144 Hz; a plain `factor * dt` would overshoot on long frames.
    const alpha = 1 - (1 - factor) ** (dt / REFERENCE_FRAME_MS)
    const next = lerpPoint(from, to, alpha)
    if (Math.hypot(to.x - next.x, to.y - next.y) < CONVERGED_PX) {
      current = { x: to.x, y: to.y }
      return true
    }
    current = next
    return false
  }

  const stepSpline = (dt: number): boolean => {
    const last = path.length - 1
    // Play faster while behind, so latency stays near one interval even when positions
    // arrive faster than expected; never slower than real time.
    const speed = Math.max(1, last - segment - progress)
    let advance = (dt / intervalMs) * speed
    while (advance > 0 && segment < last) {
      const left = 1 - progress
      if (advance >= left) {
        advance -= left
        segment += 1
        progress = 0
      } else {
        progress += advance
        advance = 0
      }
    }
    trimPath()
    const end = path[path.length - 1]!
    if (segment >= path.length - 1) {
      current = { x: end.x, y: end.y }
      return true
    }
    const p1 = path[segment]!
    const p2 = path[segment + 1]!
    // The last segment has no next point yet; repeating p2 eases it in. A push mid-segment
    // then bends the rest of the curve slightly, which reads better than waiting an extra
    // interval for the point.
    current = catmullRom(path[segment - 1] ?? p1, p1, p2, path[segment + 2] ?? p2, progress)
    return false
  }

  const trimPath = (): void => {
    if (segment > 1) {
      path.splice(0, segment - 1)
      segment = 1
    }
  }

  const onAnimationFrame = (timestamp: number): void => {
    frameRequested = false
    if (disposed || hidden || current === undefined || target === undefined) return
    // The first frame after a (re)start has no previous timestamp; a push lands between
    // frames, so assume one nominal frame rather than mixing in the push's clock.
    const dt = lastFrameAt === undefined ? REFERENCE_FRAME_MS : Math.max(0, timestamp - lastFrameAt)
    lastFrameAt = timestamp
    const settled = mode === 'lerp' ? stepLerp(current, target, dt) : stepSpline(dt)
    if (settled) {
      lastFrameAt = undefined
    } else {
      // Schedule before notifying, so a throwing listener cannot stall the animation.
      requestFrame()
    }
    emit(current)
  }

  const onVisibilityChange = (): void => {
    if (disposed) return
    const nowHidden = visibility.isHidden()
    if (nowHidden === hidden) return
    hidden = nowHidden
    if (hidden) {
      stopLoop()
    } else if (target !== undefined) {
      // Replaying what happened while hidden would only show stale motion.
      jumpTo(target)
    }
  }

  const unsubscribeVisibility = visibility.onChange(onVisibilityChange)

  return {
    get current() {
      return current
    },

    push(point: Point): void {
      if (disposed) return
      if (
        point === null ||
        typeof point !== 'object' ||
        !Number.isFinite(point.x) ||
        !Number.isFinite(point.y)
      ) {
        throw new SynclineError(
          'invalid_argument',
          'CursorInterpolator.push: point must be { x: number, y: number } with finite numbers',
        )
      }
      const received = { x: point.x, y: point.y }
      const at = now()
      const gap = at - lastPushAt
      lastPushAt = at
      target = received
      // Hidden: only remember it; becoming visible jumps there.
      if (hidden) return
      if (current === undefined) {
        // Nothing to animate from yet.
        jumpTo(received)
        return
      }
      if (mode === 'spline') {
        const atRest = segment >= path.length - 1
        if (atRest && gap > intervalMs * STALE_PATH_INTERVALS) {
          path = [path[path.length - 1] ?? current]
          segment = 0
          progress = 0
        }
        path.push(received)
      }
      requestFrame()
    },

    subscribe(listener: (point: Readonly<Point>) => void): () => void {
      if (typeof listener !== 'function') {
        throw new SynclineError(
          'invalid_argument',
          'CursorInterpolator.subscribe: listener must be a function',
        )
      }
      if (disposed) return () => {}
      listeners.add(listener)
      if (current !== undefined) listener(current)
      return () => {
        listeners.delete(listener)
      }
    },

    dispose(): void {
      if (disposed) return
      disposed = true
      stopLoop()
      unsubscribeVisibility()
      listeners.clear()
    },
  }
}

/** Uniform Catmull-Rom: passes through p1 at t = 0 and p2 at t = 1. */
function catmullRom(p0: Point, p1: Point, p2: Point, p3: Point, t: number): Point {
  const t2 = t * t
  const t3 = t2 * t
  const axis = (a: number, b: number, c: number, d: number): number =>
    0.5 * (2 * b + (c - a) * t + (2 * a - 5 * b + 4 * c - d) * t2 + (3 * b - a - 3 * c + d) * t3)
  return { x: axis(p0.x, p1.x, p2.x, p3.x), y: axis(p0.y, p1.y, p2.y, p3.y) }
}

interface FrameScheduler {
  request(callback: (timestamp: number) => void): void
  cancel(): void
}

/** At most one frame is ever pending, so the scheduler keeps its handle for `cancel`. */
function createFrameScheduler(
  options: CursorInterpolatorOptions,
  now: () => number,
): FrameScheduler {
  const request = readFunction('requestAnimationFrame', options.requestAnimationFrame)
  const cancel = readFunction('cancelAnimationFrame', options.cancelAnimationFrame)
  if ((request === undefined) !== (cancel === undefined)) {
    throw new SynclineError(
      'invalid_option',
      'createCursorInterpolator: options.requestAnimationFrame and options.cancelAnimationFrame must be given together',
    )
  }
  if (request && cancel) return handleScheduler(request, cancel)
  if (
    typeof globalThis.requestAnimationFrame === 'function' &&
    typeof globalThis.cancelAnimationFrame === 'function'
  ) {
    // Called through globalThis: browsers throw "Illegal invocation" on a detached rAF.
    return handleScheduler(
      (callback) => globalThis.requestAnimationFrame(callback),
      (handle) => globalThis.cancelAnimationFrame(handle),
    )
  }
  let timer: ReturnType<typeof setTimeout> | undefined
  return {
    request(callback) {
      timer = setTimeout(() => {
        timer = undefined
        callback(now())
      }, FALLBACK_FRAME_MS)
    },
    cancel() {
      if (timer !== undefined) clearTimeout(timer)
      timer = undefined
    },
  }
}

function handleScheduler(
  request: (callback: (timestamp: number) => void) => number,
  cancel: (handle: number) => void,
): FrameScheduler {
  let handle: number | undefined
  return {
    request(callback) {
      handle = request((timestamp) => {
        handle = undefined
        callback(timestamp)
      })
    },
    cancel() {
      if (handle !== undefined) cancel(handle)
      handle = undefined
    },
  }
}

interface VisibilitySource {
  isHidden(): boolean
  onChange(listener: () => void): () => void
}

function createVisibilitySource(options: CursorInterpolatorOptions): VisibilitySource {
  const isHidden = readFunction('isHidden', options.isHidden)
  const onVisibilityChange = readFunction('onVisibilityChange', options.onVisibilityChange)
  if ((isHidden === undefined) !== (onVisibilityChange === undefined)) {
    // One without the other could never resume (or never pause), so refuse it outright.
    throw new SynclineError(
      'invalid_option',
      'createCursorInterpolator: options.isHidden and options.onVisibilityChange must be given together',
    )
  }
  if (isHidden && onVisibilityChange) {
    return { isHidden: () => isHidden() === true, onChange: onVisibilityChange }
  }
  if (
    typeof document !== 'undefined' &&
    typeof document.visibilityState === 'string' &&
    typeof document.addEventListener === 'function'
  ) {
    return {
      isHidden: () => document.visibilityState === 'hidden',
      onChange(listener) {
        document.addEventListener('visibilitychange', listener)
        return () => document.removeEventListener('visibilitychange', listener)
      },
    }
  }
  // No document (Node, workers): nothing is ever hidden.
  return { isHidden: () => false, onChange: () => () => {} }
}

function defaultNow(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now()
}

function readMode(value: unknown): CursorInterpolationMode {
  if (value === undefined) return 'lerp'
  if (value === 'lerp' || value === 'spline') return value
  throw new SynclineError(
    'invalid_option',
    `createCursorInterpolator: options.mode must be 'lerp' or 'spline', got ${describe(value)}`,
  )
}

function readNumber(
  name: string,
  value: unknown,
  fallback: number,
  accept: (value: number) => boolean,
  expected: string,
): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || !accept(value)) {
    throw new SynclineError(
      'invalid_option',
      `createCursorInterpolator: options.${name} must be ${expected}, got ${describe(value)}`,
    )
  }
  return value
}

function readFunction<F extends (...args: never[]) => unknown>(
  name: string,
  value: F | undefined,
): F | undefined {
  if (value === undefined || typeof value === 'function') return value
  throw new SynclineError(
    'invalid_option',
    `createCursorInterpolator: options.${name} must be a function, got ${describe(value)}`,
  )
}

function describe(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : String(value)
}
