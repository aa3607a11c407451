// Linear interpolation shared by the cursor interpolator and by apps that animate presence
// themselves, so both blend positions the same way.

/** A position in screen or canvas space. */
export interface Point {
  x: number
  y: number
}

/**
 * Returns the value a fraction `t` of the way from `a` to `b`.
 *
 * `t` is not clamped: values outside `[0, 1]` extrapolate, which callers sometimes want.
 * `lerp(a, b, 0)` is exactly `a`; the `a + (b - a) * t` form keeps a still value still
 * (`lerp(a, a, t) === a`), which matters more for a resting cursor than exactness at `t = 1`.
 *
 * @param a - Value at `t = 0`.
 * @param b - Value at `t = 1`.
 * @param t - Fraction of the way from `a` to `b`.
 */
export function lerp(a: number, b: number, t: number): number {
  return a + (b - a) * t
}

/**
 * Returns the point a fraction `t` of the way from `a` to `b`, as a new object.
 *
 * @param a - Point at `t = 0`.
 * @param b - Point at `t = 1`.
 * @param t - Fraction of the way from `a` to `b`; not clamped (see {@link lerp}).
 */
export function lerpPoint(a: Point, b: Point, t: number): Point {
  return { x: lerp(a.x, b.x, t), y: lerp(a.y, b.y, t) }
}
