// A DocumentStore in one SQLite file (better-sqlite3): durable across restarts with no server
// to run, and shareable by several processes on one machine thanks to WAL mode.

import Database from 'better-sqlite3'
import type { DocumentStore, StoredDocument } from './documentStore'
import { CREATE_SCHEMA, SCHEMA_VERSION, TABLE } from './schema'
import { SqliteStoreError, type SqliteStoreErrorCode } from './sqliteStoreError'

/** Defaults of {@link createSqliteStore}, each with its reason. */
export const SQLITE_STORE_DEFAULTS = {
  /**
   * How long a write waits for another process's lock before failing. Writes are short (one
   * merged batch), so 5 s only runs out when something is stuck; the server's writer then
   * keeps the batch and retries.
   */
  busyTimeoutMs: 5_000,
} as const

/** Options of {@link createSqliteStore}. */
export interface SqliteStoreOptions {
  /** Path of the database file, created when missing (its directory must exist). `':memory:'` for a throwaway store. */
  path: string
  /** How long to wait for a lock held by another connection. Default 5 s. */
  busyTimeoutMs?: number
}

interface LogRow {
  id: number
  kind: string
  data: unknown
}

type Db = InstanceType<typeof Database>

interface Connection {
  db: Db
  load: (room: string) => LogRow[]
  append: (room: string, updates: Uint8Array[]) => void
  compact: (room: string, snapshot: Uint8Array, upTo: number) => void
  delete: (room: string) => void
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function open(path: string, busyTimeoutMs: number): Connection {
  let db: Db
  try {
    db = new Database(path)
  } catch (error) {
    throw new SqliteStoreError(
      'open_failed',
      `Cannot open the document store "${path}": ${messageOf(error)}. Check that its directory exists and is writable.`,
      { cause: error },
    )
  }
  let stage: SqliteStoreErrorCode = 'open_failed'
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`)
    // Reading the version is the first access to the file: a file that is not SQLite fails
    // here, before anything is written to it.
    const version = db.pragma('user_version', { simple: true }) as number
    stage = 'unsupported_schema'
    if (version > SCHEMA_VERSION) {
      throw new Error(
        `schema version ${version} is newer than this @syncline/sqlite understands (${SCHEMA_VERSION}); upgrade @syncline/sqlite`,
      )
    }
    stage = 'open_failed'
    // WAL: readers never block the writer and several processes can share the file.
    // synchronous = NORMAL is corruption-safe in WAL mode; a power cut can only roll back the
    // last commits, a window of the same order as the writer's batching.
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    if (version < SCHEMA_VERSION) {
      // Only a new (or foreign) database is written to on open: an existing store's file is
      // not touched until the first append, so a damaged one is left as it was found.
      db.transaction(() => {
        db.exec(CREATE_SCHEMA)
        db.pragma(`user_version = ${SCHEMA_VERSION}`)
      }).immediate()
    }
    stage = 'unsupported_schema'
    const selectRoom = db.prepare<[string], LogRow>(
      `SELECT id, kind, data FROM ${TABLE} WHERE room = ? ORDER BY id`,
    )
    const selectAt = db.prepare<[string, number], { id: number }>(
      `SELECT id FROM ${TABLE} WHERE room = ? AND id = ?`,
    )
    const insert = db.prepare<[string, string, Uint8Array]>(
      `INSERT INTO ${TABLE} (room, kind, data) VALUES (?, ?, ?)`,
    )
    const insertAt = db.prepare<[number, string, string, Uint8Array]>(
      `INSERT INTO ${TABLE} (id, room, kind, data) VALUES (?, ?, ?, ?)`,
    )
    const deleteUpTo = db.prepare<[string, number]>(
      `DELETE FROM ${TABLE} WHERE room = ? AND id <= ?`,
    )
    const deleteRoom = db.prepare<[string]>(`DELETE FROM ${TABLE} WHERE room = ?`)

    const append = db.transaction((room: string, updates: Uint8Array[]) => {
      for (const update of updates) insert.run(room, 'update', update)
    })
    const compact = db.transaction((room: string, snapshot: Uint8Array, upTo: number) => {
      if (!selectAt.get(room, upTo)) return
      deleteUpTo.run(room, upTo)
      // The snapshot takes the position it covers, so the log stays ordered: snapshot first.
      insertAt.run(upTo, room, 'snapshot', snapshot)
    })
    return {
      db,
      load: (room) => selectRoom.all(room),
      // IMMEDIATE takes the write lock up front, so a busy database waits (busy_timeout)
      // instead of failing on a read-to-write lock upgrade.
      append: (room, updates) => append.immediate(room, updates),
      compact: (room, snapshot, upTo) => compact.immediate(room, snapshot, upTo),
      delete: (room) => {
        deleteRoom.run(room)
      },
    }
  } catch (error) {
    db.close()
    throw new SqliteStoreError(
      stage,
      stage === 'unsupported_schema'
        ? `The document store "${path}" has a table layout this version cannot use: ${messageOf(error)}. Point \`path\` at a file written by @syncline/sqlite, or at a new file.`
        : `Cannot open the document store "${path}": ${messageOf(error)}. Check that it is a SQLite database written by @syncline/sqlite (it was left untouched), or point \`path\` at a new file.`,
      { cause: error },
    )
  }
}

function toStored(rows: LogRow[], room: string): StoredDocument | null {
  if (rows.length === 0) return null
  let snapshot: Uint8Array | null = null
  const updates: Uint8Array[] = []
  for (const [index, row] of rows.entries()) {
    if (!(row.data instanceof Uint8Array)) {
      throw new SqliteStoreError(
        'read_failed',
        `Entry ${row.id} of room "${room}" is not a BLOB: the table ${TABLE} was written by something other than @syncline/sqlite.`,
      )
    }
    // A view, not a copy: better-sqlite3 hands out a fresh Buffer per row. Plain Uint8Array so
    // callers get the same type from every store.
    const data = new Uint8Array(row.data.buffer, row.data.byteOffset, row.data.byteLength)
    // Compaction puts the snapshot first; were there ever another, it is still a Yjs update.
    if (index === 0 && row.kind === 'snapshot') snapshot = data
    else updates.push(data)
  }
  return { snapshot, updates, position: rows[rows.length - 1]!.id }
}

/**
 * Creates a {@link DocumentStore} on a SQLite file. The file is opened (and the schema created)
 * on first use, so a server starts even when the disk is not ready; an unusable file then makes
 * `load` throw a {@link SqliteStoreError} — the server refuses the join — and leaves the file
 * untouched. Each call is one transaction; `compact` deletes and inserts atomically.
 *
 * @example
 * ```ts
 * import { createServer } from '@syncline/server'
 * import { createSqliteStore } from '@syncline/sqlite'
 * const server = createServer({ store: createSqliteStore({ path: './documents.db' }) })
 * ```
 */
export function createSqliteStore(options: SqliteStoreOptions): DocumentStore {
  const { path } = options
  const busyTimeoutMs = options.busyTimeoutMs ?? SQLITE_STORE_DEFAULTS.busyTimeoutMs
  let connection: Connection | null = null
  let closed = false

  function connect(): Connection {
    if (closed) {
      throw new SqliteStoreError(
        'closed',
        `The document store "${path}" is closed: create a new one with createSqliteStore().`,
      )
    }
    connection ??= open(path, busyTimeoutMs)
    return connection
  }

  function run<T>(code: 'read_failed' | 'write_failed', what: string, fn: (c: Connection) => T): T {
    const c = connect()
    try {
      return fn(c)
    } catch (error) {
      if (error instanceof SqliteStoreError) throw error
      throw new SqliteStoreError(
        code,
        `${what} in the document store "${path}" failed: ${messageOf(error)}.`,
        { cause: error },
      )
    }
  }

  return {
    async load(room) {
      return run('read_failed', `Loading room "${room}"`, (c) => toStored(c.load(room), room))
    },
    async append(room, updates) {
      if (updates.length === 0) {
        connect()
        return
      }
      run('write_failed', `Appending to room "${room}"`, (c) => c.append(room, updates))
    },
    async compact(room, snapshot, upTo) {
      run('write_failed', `Compacting room "${room}"`, (c) => c.compact(room, snapshot, upTo))
    },
    async delete(room) {
      run('write_failed', `Deleting room "${room}"`, (c) => c.delete(room))
    },
    async close() {
      closed = true
      const c = connection
      connection = null
      // Closing the last connection checkpoints the WAL into the file and removes it.
      c?.db.close()
    },
  }
}
