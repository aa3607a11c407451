// The default Bus: topics inside one process. Several servers in one process (tests, a
// multi-port setup) can share one instance and behave as if they were separate processes.
import type { Bus } from './bus'

/** Options of {@link createInProcessBus}. */
export interface InProcessBusOptions {
  /** Called when a listener throws; the error never reaches the publisher. Default: console.error. */
  onListenerError?: (error: unknown) => void
}

/**
 * Creates a {@link Bus} that delivers within this process.
 *
 * Delivery is asynchronous (a microtask after `publish`), like a network bus, so code that
 * works on this bus does not accidentally depend on synchronous re-entrant delivery. Order per
 * topic is preserved. A listener that unsubscribes receives nothing published afterwards.
 */
export function createInProcessBus(options: InProcessBusOptions = {}): Bus {
  const onListenerError = options.onListenerError ?? ((error) => console.error(error))
  const topics = new Map<string, Set<(message: Uint8Array) => void>>()
  let closed = false

  return {
    publish(topic, message) {
      if (closed) return
      const listeners = topics.get(topic)
      if (listeners === undefined || listeners.size === 0) return
      const targets = [...listeners]
      queueMicrotask(() => {
        for (const listener of targets) {
          // Skip listeners that unsubscribed between publish and delivery.
          if (!topics.get(topic)?.has(listener)) continue
          try {
            listener(message)
          } catch (error) {
            onListenerError(error)
          }
        }
      })
    },
    subscribe(topic, listener) {
      if (closed) return () => {}
      let listeners = topics.get(topic)
      if (listeners === undefined) {
        listeners = new Set()
        topics.set(topic, listeners)
      }
      // Wrap so subscribing the same function twice yields two independent subscriptions.
      const entry = (message: Uint8Array) => listener(message)
      listeners.add(entry)
      return () => {
        const current = topics.get(topic)
        if (current === undefined) return
        current.delete(entry)
        if (current.size === 0) topics.delete(topic)
      }
    },
    async close() {
      closed = true
      topics.clear()
    },
  }
}
