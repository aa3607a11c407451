// @syncline/sqlite: an embedded, durable DocumentStore for @syncline/server on better-sqlite3.

export type { DocumentStore, StoredDocument } from './documentStore'
export type { SqliteStoreOptions } from './sqliteStore'
export { createSqliteStore, SQLITE_STORE_DEFAULTS } from './sqliteStore'
export type { SqliteStoreErrorCode } from './sqliteStoreError'
export { SqliteStoreError } from './sqliteStoreError'
