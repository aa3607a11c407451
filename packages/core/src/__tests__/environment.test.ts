import { describe, expect, it, vi } from 'vitest'
import {
  browserOnlineSetup,
  browserPageSetup,
  browserVisibilitySetup,
  createEnvironment,
  OnlineManager,
  type PageEvent,
} from '../environment'

/** An EventTarget that counts its listeners. */
class CountingTarget extends EventTarget {
  listeners = 0
  visibilityState = 'visible'
  override addEventListener(...args: Parameters<EventTarget['addEventListener']>): void {
    this.listeners++
    super.addEventListener(...args)
  }
  override removeEventListener(...args: Parameters<EventTarget['removeEventListener']>): void {
    this.listeners--
    super.removeEventListener(...args)
  }
}

function pageEvent(type: string, persisted: boolean): Event {
  return Object.assign(new Event(type), { persisted })
}

describe('environment managers', () => {
  it('install browser listeners on the first subscriber and remove them after the last', () => {
    const window = new CountingTarget()
    const online = new OnlineManager(browserOnlineSetup(window, { onLine: true }))
    expect(window.listeners).toBe(0)
    const seen: boolean[] = []
    const off1 = online.subscribe((value) => seen.push(value))
    const off2 = online.subscribe(() => {})
    expect(window.listeners).toBe(2)
    window.dispatchEvent(new Event('offline'))
    window.dispatchEvent(new Event('offline'))
    window.dispatchEvent(new Event('online'))
    expect(seen).toEqual([false, true])
    off1()
    expect(window.listeners).toBe(2)
    off2()
    off2()
    expect(window.listeners).toBe(0)
    expect(online.hasListeners()).toBe(false)
  })

  it('reads navigator.onLine when installed', () => {
    const online = new OnlineManager(browserOnlineSetup(new CountingTarget(), { onLine: false }))
    const off = online.subscribe(() => {})
    expect(online.isOnline()).toBe(false)
    off()
  })

  it('follows document.visibilityState', () => {
    const document = new CountingTarget()
    const env = createEnvironment({ visibility: browserVisibilitySetup(document) })
    const seen: boolean[] = []
    const off = env.visibility.subscribe((value) => seen.push(value))
    document.visibilityState = 'hidden'
    document.dispatchEvent(new Event('visibilitychange'))
    expect(env.visibility.isVisible()).toBe(false)
    document.visibilityState = 'visible'
    document.dispatchEvent(new Event('visibilitychange'))
    expect(seen).toEqual([false, true])
    off()
    expect(document.listeners).toBe(0)
  })

  it('reports pageshow / pagehide with the bfcache flag', () => {
    const window = new CountingTarget()
    const env = createEnvironment({ page: browserPageSetup(window) })
    const seen: PageEvent[] = []
    const off = env.page.subscribe((event) => seen.push(event))
    window.dispatchEvent(pageEvent('pagehide', true))
    window.dispatchEvent(pageEvent('pageshow', false))
    expect(seen).toEqual([
      { type: 'pagehide', persisted: true },
      { type: 'pageshow', persisted: false },
    ])
    off()
    expect(window.listeners).toBe(0)
  })

  it('setEventListener swaps the setup, cleaning up the old one', () => {
    const cleanup = vi.fn()
    const env = createEnvironment({ online: () => cleanup })
    const off = env.online.subscribe(() => {})
    let emit: ((value: boolean) => void) | undefined
    env.online.setEventListener((e) => {
      emit = e
      return undefined
    })
    expect(cleanup).toHaveBeenCalledTimes(1)
    emit?.(false)
    expect(env.online.isOnline()).toBe(false)
    off()
  })

  it('without a setup is driven by hand and notifies only on change', () => {
    const env = createEnvironment()
    const seen: boolean[] = []
    env.online.subscribe((value) => seen.push(value))
    env.online.setOnline(true)
    env.online.setOnline(false)
    env.online.setOnline(false)
    expect(seen).toEqual([false])
  })

  it('has no-op defaults outside a browser (Node has no window)', () => {
    const online = new OnlineManager(browserOnlineSetup())
    const off = online.subscribe(() => {})
    expect(online.isOnline()).toBe(true)
    off()
  })
})
