// The contract between a room's Yjs document and durable storage: an append-only log of Yjs
// updates per room, compacted into a snapshot, that refuses to pretend when it cannot read.

/**
 * Everything stored for one room, as returned by {@link DocumentStore.load}.
 *
 * Applying `snapshot` and then every entry of `updates` (in any order: Yjs updates commute)
 * to an empty `Y.Doc` rebuilds the stored document; `Y.mergeUpdates([snapshot, ...updates])`
 * gives the same state as one update.
 */
export interface StoredDocument {
  /** A Yjs update holding everything compacted so far, or `null` when the room was never compacted. */
  snapshot: Uint8Array | null
  /** Yjs updates appended after the snapshot, oldest first. */
  updates: Uint8Array[]
  /**
   * Log position of the newest entry included in this result. Pass it to
   * {@link DocumentStore.compact} as `upTo` together with a snapshot built from this result.
   * Positions only grow and are never reused, not even after {@link DocumentStore.delete}.
   */
  position: number
}

/**
 * Durable storage for collaborative documents: per room, an append-only log of Yjs updates that
 * is periodically replaced, up to a point, by one snapshot.
 *
 * The server ships an in-memory store (`createMemoryStore`, the default) and
 * `@syncline/sqlite` an embedded one. Implementations must be safe to call concurrently, also
 * from several server processes sharing the same storage.
 */
export interface DocumentStore {
  /**
   * Everything stored for a room: a snapshot plus the updates appended since, or `null` when
   * the room has never been stored (or was deleted).
   *
   * Throws when the data cannot be read. The caller must then refuse the join and never start
   * from an empty document: an empty document's first save would overwrite the stored one.
   */
  load(room: string): Promise<StoredDocument | null>

  /**
   * Appends Yjs updates to a room's log, all or none, creating the room when it is new.
   * An empty batch stores nothing. The store keeps its own copy of the bytes.
   */
  append(room: string, updates: Uint8Array[]): Promise<void>

  /**
   * Atomically replaces every log entry at or before position `upTo` (an earlier snapshot
   * included) by `snapshot`. Entries appended after `upTo` — concurrently, by this process or
   * another — are kept, so nothing is lost.
   *
   * `snapshot` must contain everything that the {@link StoredDocument} with
   * `position === upTo` contained (build it from that result, e.g. with `Y.mergeUpdates` or
   * through a `Y.Doc`). Does nothing when the room holds no entry at `upTo`: the room was
   * deleted, or another compaction already covered that position, so a stale compaction can
   * neither resurrect a deleted room nor drop newer data.
   */
  compact(room: string, snapshot: Uint8Array, upTo: number): Promise<void>

  /** Removes everything stored for a room. Deleting an unknown room does nothing. */
  delete(room: string): Promise<void>

  /** Releases the store's resources. Idempotent; every other method rejects afterwards. */
  close(): Promise<void>
}
