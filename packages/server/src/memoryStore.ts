// The server's default DocumentStore: keeps each room's log in process memory, so a server
// runs with no setup; documents live as long as the process (use @syncline/sqlite to keep them).

import type { DocumentStore, StoredDocument } from './documentStore'

interface Entry {
  position: number
  kind: 'snapshot' | 'update'
  data: Uint8Array
}

/**
 * Creates a {@link DocumentStore} that holds everything in memory. It copies bytes on the way
 * in and out, so callers cannot change stored data by mutating their buffers — it behaves like
 * a database, which makes it a faithful stand-in for one in tests.
 */
export function createMemoryStore(): DocumentStore {
  const rooms = new Map<string, Entry[]>()
  // One counter for the whole store: positions are never reused, even after a delete.
  let lastPosition = 0
  let closed = false

  function assertOpen(): void {
    if (closed) {
      throw new Error(
        'The memory document store is closed: create a new one with createMemoryStore().',
      )
    }
  }

  return {
    async load(room): Promise<StoredDocument | null> {
      assertOpen()
      const log = rooms.get(room)
      if (!log || log.length === 0) return null
      const [first] = log
      const snapshot = first?.kind === 'snapshot' ? first.data.slice() : null
      const updates = log.slice(snapshot ? 1 : 0).map((entry) => entry.data.slice())
      return { snapshot, updates, position: log[log.length - 1]!.position }
    },

    async append(room, updates): Promise<void> {
      assertOpen()
      if (updates.length === 0) return
      let log = rooms.get(room)
      if (!log) {
        log = []
        rooms.set(room, log)
      }
      for (const update of updates) {
        lastPosition += 1
        log.push({ position: lastPosition, kind: 'update', data: update.slice() })
      }
    },

    async compact(room, snapshot, upTo): Promise<void> {
      assertOpen()
      const log = rooms.get(room)
      if (!log?.some((entry) => entry.position === upTo)) return
      const kept = log.filter((entry) => entry.position > upTo)
      rooms.set(room, [{ position: upTo, kind: 'snapshot', data: snapshot.slice() }, ...kept])
    },

    async delete(room): Promise<void> {
      assertOpen()
      rooms.delete(room)
    },

    async close(): Promise<void> {
      closed = true
      rooms.clear()
    },
  }
}
