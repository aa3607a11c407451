// The SQLite schema of the document log, in one place with its version, so that a file from a
// newer release is refused instead of being misread or altered.

/** `PRAGMA user_version` of a database laid out as below. */
export const SCHEMA_VERSION = 1

/** The one table: every room's log, ordered by `id`. */
export const TABLE = 'syncline_document_log'

/**
 * One row per log entry. `id` is AUTOINCREMENT, not a plain rowid, so positions are never
 * reused after rows are deleted: a stale `compact(room, snapshot, upTo)` can then never match a
 * newer entry that happens to get the same id. The index serves every query (all are per room,
 * in id order).
 */
export const CREATE_SCHEMA = `
  CREATE TABLE IF NOT EXISTS ${TABLE} (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    room TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('snapshot', 'update')),
    data BLOB NOT NULL
  );
  CREATE INDEX IF NOT EXISTS ${TABLE}_room_id ON ${TABLE} (room, id);
`
