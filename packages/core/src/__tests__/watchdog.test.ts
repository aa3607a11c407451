import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Watchdog } from '../watchdog'

function watchdog() {
  const calls: string[] = []
  const dog = new Watchdog({
    timeoutMs: 15_000,
    probeTimeoutMs: 3000,
    lateTimerToleranceMs: 1000,
    now: Date.now,
    probe: () => calls.push('probe'),
    dead: (silentFor) => calls.push(`dead after ${silentFor}`),
  })
  return { dog, calls }
}

describe('Watchdog', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('declares the peer dead after timeoutMs of silence, measured on time', () => {
    const { dog, calls } = watchdog()
    dog.start()
    vi.advanceTimersByTime(14_999)
    expect(calls).toEqual([])
    vi.advanceTimersByTime(1)
    expect(calls).toEqual(['dead after 15000'])
    expect(vi.getTimerCount()).toBe(0)
  })

  it('stays quiet while frames keep arriving', () => {
    const { dog, calls } = watchdog()
    dog.start()
    for (let i = 0; i < 20; i++) {
      vi.advanceTimersByTime(10_000)
      dog.frameReceived()
    }
    expect(calls).toEqual([])
    // Silence measured from the last frame, not from start().
    vi.advanceTimersByTime(15_000)
    expect(calls).toEqual(['dead after 15000'])
  })

  it('probes instead of concluding dead when its timer fires late (throttled tab, sleep)', () => {
    const { dog, calls } = watchdog()
    dog.start()
    // The tab was frozen: the wall clock moved a minute, the timer had not fired.
    vi.setSystemTime(Date.now() + 60_000)
    vi.advanceTimersByTime(15_000)
    expect(calls).toEqual(['probe'])
    // The probe is answered: alive, and watching continues normally.
    vi.advanceTimersByTime(500)
    dog.frameReceived()
    vi.advanceTimersByTime(2500)
    expect(calls).toEqual(['probe'])
    vi.advanceTimersByTime(15_000)
    expect(calls).toEqual(['probe', 'dead after 15000'])
  })

  it('declares dead when the probe stays unanswered for probeTimeoutMs', () => {
    const { dog, calls } = watchdog()
    dog.start()
    vi.setSystemTime(Date.now() + 60_000)
    vi.advanceTimersByTime(15_000)
    expect(calls).toEqual(['probe'])
    vi.advanceTimersByTime(2999)
    expect(calls).toEqual(['probe'])
    vi.advanceTimersByTime(1)
    expect(calls).toEqual(['probe', 'dead after 78000'])
    expect(vi.getTimerCount()).toBe(0)
  })

  it('tolerates timers a little late (1 s background alignment) without probing', () => {
    const { dog, calls } = watchdog()
    dog.start()
    vi.setSystemTime(Date.now() + 900)
    vi.advanceTimersByTime(15_000)
    expect(calls).toEqual(['dead after 15900'])
  })

  it('check() after a long silence probes first', () => {
    const { dog, calls } = watchdog()
    dog.start()
    vi.setSystemTime(Date.now() + 30_000)
    dog.check()
    expect(calls).toEqual(['probe'])
  })

  it('probe() asks at once and gives the peer probeTimeoutMs to answer', () => {
    const { dog, calls } = watchdog()
    dog.start()
    vi.advanceTimersByTime(1000)
    dog.probe()
    dog.probe() // One probe at a time.
    expect(calls).toEqual(['probe'])
    vi.advanceTimersByTime(3000)
    expect(calls).toEqual(['probe', 'dead after 4000'])
  })

  it('stop() clears its timer', () => {
    const { dog, calls } = watchdog()
    dog.start()
    dog.stop()
    expect(vi.getTimerCount()).toBe(0)
    vi.advanceTimersByTime(100_000)
    expect(calls).toEqual([])
  })
})
