// Helpers of the document integration tests (documents.test.ts, convergence.test.ts): waiting on
// a room's document content and its write state, reading the server's copy of a document
// through a fresh client, and stores that count or hold back what the server asks of them.
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
