import { describe, expect, it } from 'vitest'
import { lerp, lerpPoint } from '../lerp'

describe('lerp', () => {
  it('returns a at t = 0 and b at t = 1', () => {
    expect(lerp(3, 11, 0)).toBe(3)
    expect(lerp(3, 11, 1)).toBe(11)
  })

  it('interpolates linearly in between', () => {
    expect(lerp(0, 100, 0.15)).toBeCloseTo(15, 12)
    expect(lerp(-10, 10, 0.5)).toBe(0)
    expect(lerp(10, 0, 0.25)).toBe(7.5)
  })

  it('extrapolates outside [0, 1] instead of clamping', () => {
    expect(lerp(0, 10, 1.5)).toBe(15)
    expect(lerp(0, 10, -0.5)).toBe(-5)
  })

  it('keeps a still value exactly still', () => {
    for (const t of [0.1, 0.3, 0.7, 0.15]) expect(lerp(0.1, 0.1, t)).toBe(0.1)
  })
})

describe('lerpPoint', () => {
  it('interpolates both axes and returns a new object', () => {
    const a = { x: 0, y: 100 }
    const b = { x: 100, y: 0 }
    const mid = lerpPoint(a, b, 0.5)
    expect(mid).toEqual({ x: 50, y: 50 })
    expect(mid).not.toBe(a)
    expect(mid).not.toBe(b)
    expect(a).toEqual({ x: 0, y: 100 })
    expect(b).toEqual({ x: 100, y: 0 })
  })

  it('returns copies at the endpoints', () => {
    const a = { x: 1, y: 2 }
    const b = { x: 3, y: 4 }
    expect(lerpPoint(a, b, 0)).toEqual(a)
    expect(lerpPoint(a, b, 0)).not.toBe(a)
    expect(lerpPoint(a, b, 1)).toEqual(b)
  })
})
