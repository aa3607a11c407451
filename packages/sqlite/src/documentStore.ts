// The DocumentStore contract, declared again so that @syncline/sqlite has no dependency on
// @syncline/server. Structurally identical to @syncline/server's `DocumentStore` and
// `StoredDocument` (packages/server/src/documentStore.ts); a type test in the server package
// (documentStoreTypes.test.ts) fails when the two drift apart. Change both together.

/**
 * Everything stored for one room, as returned by {@link DocumentStore.load}: apply `snapshot`
 * and then `updates` to an empty `Y.Doc`, or `Y.mergeUpdates([snapshot, ...updates])`.
 */
export interface StoredDocument {
  /** A Yjs update holding everything compacted so far, or `null` when the room was never compacted. */
  snapshot: Uint8Array | null
  /** Yjs updates appended after the snapshot, oldest first. */
  updates: Uint8Array[]
  /**
   * Log position of the newest entry included in this result: pass it to
   * {@link DocumentStore.compact} as `upTo`. Positions only grow and are never reused.
   */
  position: number
}

/**
 * Durable storage for collaborative documents: per room, an append-only log of Yjs updates
 * periodically replaced, up to a point, by one snapshot. Same contract as `DocumentStore` in
 * `@syncline/server`, where each method is documented in full.
 */
export interface DocumentStore {
  /** Everything stored for a room, or `null` when it was never stored. Throws when unreadable. */
  load(room: string): Promise<StoredDocument | null>
  /** Appends Yjs updates to a room's log, all or none. An empty batch stores nothing. */
  append(room: string, updates: Uint8Array[]): Promise<void>
  /**
   * Atomically replaces every entry at or before `upTo` by `snapshot`, keeping later entries.
   * Does nothing when the room holds no entry at `upTo` (deleted, or compacted further already).
   */
  compact(room: string, snapshot: Uint8Array, upTo: number): Promise<void>
  /** Removes everything stored for a room. */
  delete(room: string): Promise<void>
  /** Releases the store's resources. Idempotent; every other method rejects afterwards. */
  close(): Promise<void>
}
