// A DocumentStore wrapper that counts calls, shared by the server's and the client's document
// tests (loads that must happen once, appends that must be batched, a load held back or failed).
import type { DocumentStore } from '../../server/src/documentStore'

/** Calls made to a {@link spyStore}. */
export interface StoreCalls {
  load: number
  append: number
  compact: number
  delete: number
  close: number
}

/**
 * Wraps `inner` and counts its calls; everything is forwarded, `close` included. `load` may be
 * replaced to stall or fail a load (it is given the inner store to load from).
 */
export function spyStore(
  inner: DocumentStore,
  load?: (room: string, inner: DocumentStore) => ReturnType<DocumentStore['load']>,
): { store: DocumentStore; calls: StoreCalls } {
  const calls: StoreCalls = { load: 0, append: 0, compact: 0, delete: 0, close: 0 }
  const store: DocumentStore = {
    load(room) {
      calls.load += 1
      return load ? load(room, inner) : inner.load(room)
    },
    append(room, updates) {
      calls.append += 1
      return inner.append(room, updates)
    },
    compact(room, snapshot, upTo) {
      calls.compact += 1
      return inner.compact(room, snapshot, upTo)
    },
    delete(room) {
      calls.delete += 1
      return inner.delete(room)
    },
    close() {
      calls.close += 1
      return inner.close()
    },
  }
  return { store, calls }
}
