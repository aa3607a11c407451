// The one error type the SQLite store throws, so the server can tell storage trouble (refuse
// the join, keep the batch) from its own bugs, and the message says what to fix.

/** Why a {@link SqliteStoreError} was thrown. */
export type SqliteStoreErrorCode =
  /** The file cannot be opened as a SQLite database (missing directory, permissions, not SQLite). */
  | 'open_failed'
  /** The database was written by a newer @syncline/sqlite schema, or holds a foreign table. */
  | 'unsupported_schema'
  /** Reading a room failed (I/O error, corrupt pages, unexpected rows). */
  | 'read_failed'
  /** Writing failed (disk full, read-only file, lock held too long); nothing was written. */
  | 'write_failed'
  /** The store was closed. */
  | 'closed'

/** Thrown (as a rejection) by every method of the SQLite store when SQLite fails. */
export class SqliteStoreError extends Error {
  override readonly name = 'SqliteStoreError'
  /** Machine-readable reason. */
  readonly code: SqliteStoreErrorCode

  constructor(code: SqliteStoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}
