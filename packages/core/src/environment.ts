// Pluggable environment signals (online/offline, tab visibility, page show/hide), shaped like
// TanStack Query's onlineManager: core never touches `window` or `document` directly, so it
// runs in Node, workers and tests, and any runtime can feed its own signals in.

/** Tears down what a setup function installed. */
export type Cleanup = () => void

/**
 * Installs the real event listeners of a signal and reports values through `emit`; returns
 * the function that removes them. Runs only while the manager has subscribers.
 */
export type SetupFn<T> = (emit: (value: T) => void) => Cleanup | undefined

/** What a page lifecycle event says; `persisted` is true when the page enters or leaves the bfcache. */
export interface PageEvent {
  type: 'pageshow' | 'pagehide'
  persisted: boolean
}

/** The subset of `EventTarget` the default setups use. */
export interface EventTargetLike {
  addEventListener(type: string, listener: (event: unknown) => void): void
  removeEventListener(type: string, listener: (event: unknown) => void): void
}

/**
 * One environment signal: installs its setup lazily on the first subscriber and removes it
 * after the last one leaves (the nanostores `onMount` lifecycle), so nothing listens to the
 * page while no client exists.
 */
class SignalManager<T> {
  readonly #listeners = new Set<(value: T) => void>()
  #setup: SetupFn<T> | undefined
  #cleanup: Cleanup | undefined

  constructor(setup: SetupFn<T> | undefined) {
    this.#setup = setup
  }

  /**
   * Replaces how this signal is observed (TanStack's `setEventListener`). The previous setup
   * is removed; the new one is installed at once if anybody is subscribed.
   */
  setEventListener(setup: SetupFn<T> | undefined): void {
    this.#uninstall()
    this.#setup = setup
    if (this.#listeners.size > 0) this.#install()
  }

  /** Calls `listener` on every emitted value; returns the unsubscribe function. */
  subscribe(listener: (value: T) => void): () => void {
    this.#listeners.add(listener)
    if (this.#listeners.size === 1) this.#install()
    return () => {
      if (!this.#listeners.delete(listener)) return
      if (this.#listeners.size === 0) this.#uninstall()
    }
  }

  /** Whether anybody is subscribed; tests use it to prove that clients clean up. */
  hasListeners(): boolean {
    return this.#listeners.size > 0
  }

  /** Delivers `value` to every subscriber. */
  protected emit(value: T): void {
    for (const listener of [...this.#listeners]) listener(value)
  }

  /** Receives every value the setup reports; subclasses filter or store it. */
  protected receive(value: T): void {
    this.emit(value)
  }

  #install(): void {
    this.#cleanup = this.#setup?.((value) => this.receive(value))
  }

  #uninstall(): void {
    const cleanup = this.#cleanup
    this.#cleanup = undefined
    cleanup?.()
  }
}

/** A signal with a current value; subscribers hear about changes only. */
class ValueManager extends SignalManager<boolean> {
  #value = true

  protected override receive(value: boolean): void {
    if (value === this.#value) return
    this.#value = value
    this.emit(value)
  }

  protected get value(): boolean {
    return this.#value
  }

  protected set value(value: boolean) {
    this.receive(value)
  }
}

/** Whether the network is reachable. Assumed online until told otherwise. */
export class OnlineManager extends ValueManager {
  /** Whether the environment currently reports a network. */
  isOnline(): boolean {
    return this.value
  }

  /** Sets the state by hand (tests, React Native's NetInfo, Electron). */
  setOnline(online: boolean): void {
    this.value = online
  }
}

/** Whether the page (tab) is visible. Assumed visible until told otherwise. */
export class VisibilityManager extends ValueManager {
  /** Whether the environment currently reports the page as visible. */
  isVisible(): boolean {
    return this.value
  }

  /** Sets the state by hand (tests, app-state APIs of native shells). */
  setVisible(visible: boolean): void {
    this.value = visible
  }
}

/** `pageshow` / `pagehide`: the page is (re)entering or leaving, possibly through the bfcache. */
export class PageLifecycleManager extends SignalManager<PageEvent> {
  /** Reports a lifecycle event by hand (tests, native shells). */
  dispatch(event: PageEvent): void {
    this.receive(event)
  }
}

/** The signals a client listens to. */
export interface Environment {
  online: OnlineManager
  visibility: VisibilityManager
  page: PageLifecycleManager
}

interface BrowserGlobals {
  window?: EventTargetLike
  document?: EventTargetLike & { visibilityState?: string }
  navigator?: { onLine?: boolean }
  addEventListener?: unknown
}

function globals(): BrowserGlobals {
  return globalThis as unknown as BrowserGlobals
}

/** The object `online`/`offline`/`pageshow`/`pagehide` fire on: `window`, or a worker's global. */
function defaultWindow(): EventTargetLike | undefined {
  const g = globals()
  if (g.window) return g.window
  return typeof g.addEventListener === 'function' ? (g as unknown as EventTargetLike) : undefined
}

function listen(
  target: EventTargetLike,
  type: string,
  listener: (event: unknown) => void,
): Cleanup {
  target.addEventListener(type, listener)
  return () => target.removeEventListener(type, listener)
}

/**
 * The browser setup of {@link OnlineManager}: `online`/`offline` events and `navigator.onLine`.
 * A no-op where neither exists (Node).
 */
export function browserOnlineSetup(
  window?: EventTargetLike,
  navigator?: { onLine?: boolean },
): SetupFn<boolean> {
  return (emit) => {
    // Globals are read at install time, not import time, so importing core has no side effects.
    const target = window ?? defaultWindow()
    if (!target) return undefined
    const onLine = (navigator ?? globals().navigator)?.onLine
    if (typeof onLine === 'boolean') emit(onLine)
    const off1 = listen(target, 'online', () => emit(true))
    const off2 = listen(target, 'offline', () => emit(false))
    return () => {
      off1()
      off2()
    }
  }
}

/** The browser setup of {@link VisibilityManager}: `document.visibilityState`. No-op without a document. */
export function browserVisibilitySetup(
  document?: EventTargetLike & { visibilityState?: string },
): SetupFn<boolean> {
  return (emit) => {
    const target = document ?? globals().document
    if (!target) return undefined
    const read = () => emit(target.visibilityState !== 'hidden')
    read()
    return listen(target, 'visibilitychange', read)
  }
}

/** The browser setup of {@link PageLifecycleManager}: `pageshow` and `pagehide` on `window`. */
export function browserPageSetup(window?: EventTargetLike): SetupFn<PageEvent> {
  return (emit) => {
    const target = window ?? defaultWindow()
    if (!target) return undefined
    const on = (type: PageEvent['type']) =>
      listen(target, type, (event) =>
        emit({ type, persisted: (event as { persisted?: boolean }).persisted === true }),
      )
    const off1 = on('pageshow')
    const off2 = on('pagehide')
    return () => {
      off1()
      off2()
    }
  }
}

/** Shared default manager for the network state; `setEventListener` on it affects every client. */
export const onlineManager: OnlineManager = new OnlineManager(browserOnlineSetup())
/** Shared default manager for page visibility. */
export const visibilityManager: VisibilityManager = new VisibilityManager(browserVisibilitySetup())
/** Shared default manager for `pageshow` / `pagehide`. */
export const pageLifecycleManager: PageLifecycleManager = new PageLifecycleManager(
  browserPageSetup(),
)

/**
 * A fresh set of managers. Without arguments they listen to nothing and are driven by hand
 * (`setOnline`, `setVisible`, `dispatch`): what tests and non-browser runtimes want.
 */
export function createEnvironment(
  setups: {
    online?: SetupFn<boolean>
    visibility?: SetupFn<boolean>
    page?: SetupFn<PageEvent>
  } = {},
): Environment {
  return {
    online: new OnlineManager(setups.online),
    visibility: new VisibilityManager(setups.visibility),
    page: new PageLifecycleManager(setups.page),
  }
}

/** The shared browser-backed managers, completed with any the caller supplies. */
export function resolveEnvironment(overrides: Partial<Environment> = {}): Environment {
  return {
    online: overrides.online ?? onlineManager,
    visibility: overrides.visibility ?? visibilityManager,
    page: overrides.page ?? pageLifecycleManager,
  }
}
