// Helpers of the document integration tests (documents.test.ts, convergence.test.ts): waiting on
// a room's document content and its write state, reading the server's copy of a document
// through a fresh client, and stores that count or hold back what the server asks of them.
import type { DocumentStore } from '@syncline/server'
import { docChanges, waitForEqual, waitForValue } from '@syncline/test-utils'
import type * as Y from 'yjs'
import type { SynclineClient } from '../../client'
import type { Room } from '../../room'
import type { createLive } from './setup'
import { synced } from './setup'

/** Waits until `predicate` holds for the room's doc (checked now and after every update). */
export function docWhere(
  room: Room,
  predicate: (doc: Y.Doc) => boolean,
  label: string,
  timeoutMs = 5_000,
): Promise<Y.Doc> {
  return waitForValue(docChanges(room.doc), predicate, {
    timeoutMs,
    label: `${label} in room "${room.name}"`,
  })
}

/** Waits until the room's Y.Text `name` reads `expected`. */
export async function textIs(room: Room, expected: string, name = 't', timeoutMs = 5_000) {
  try {
    await docWhere(
      room,
      (doc) => doc.getText(name).toString() === expected,
      `text "${expected}"`,
      timeoutMs,
    )
  } catch (error) {
    throw new Error(`${(error as Error).message}; text is "${room.doc.getText(name).toString()}"`, {
      cause: error,
    })
  }
}

/** Waits until every local edit of the room was acknowledged by the server. */
export function settled(room: Room, timeoutMs = 5_000) {
  return waitForEqual(room.hasPendingWrites, false, {
    timeoutMs,
    label: `room "${room.name}" without pending writes`,
  })
}

/** Waits until the room is synced and has no pending writes. */
export async function syncedAndSettled(room: Room, timeoutMs = 5_000): Promise<void> {
  await synced(room, timeoutMs)
  await settled(room, timeoutMs)
}

/**
 * Reads the server's copy of `room` through a fresh client (joined with the document, synced,
 * then destroyed): after the state-vector exchange it holds exactly what the server holds.
 * `fn` runs on its doc before the client goes away.
 */
export async function readServerDoc<T>(
  live: ReturnType<typeof createLive>,
  port: number,
  room: string,
  fn: (doc: Y.Doc) => T,
  timeoutMs = 5_000,
): Promise<T> {
  const reader: SynclineClient = live.client(port, {})
  try {
    const joined = reader.join(room, { doc: true, presence: { reader: true } })
    await synced(joined, timeoutMs)
    return fn(joined.doc)
  } finally {
    reader.destroy()
  }
}

/** Calls of each store method, and the store that counts them. */
export interface SpiedStore {
  store: DocumentStore
  calls: { load: number; append: number; compact: number; delete: number; close: number }
}

/**
 * Wraps `inner`, counting calls; `load` may be replaced (to hold it back or make it fail). The
 * inner store is not closed by the wrapper's `close` (tests close it themselves).
 */
export function spiedStore(
  inner: DocumentStore,
  load: (room: string) => ReturnType<DocumentStore['load']> = (room) => inner.load(room),
): SpiedStore {
  const calls = { load: 0, append: 0, compact: 0, delete: 0, close: 0 }
  const store: DocumentStore = {
    load(room) {
      calls.load += 1
      return load(room)
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
    async close() {
      calls.close += 1
    },
  }
  return { store, calls }
}
