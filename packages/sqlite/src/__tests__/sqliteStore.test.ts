// The SQLite store passes the shared DocumentStore contract, and keeps what a file-backed store
// promises beyond it: data survives a restart, WAL mode, atomic compaction, and a corrupt file
// makes load throw without being touched.

import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
// Relative, not '@syncline/test-utils': this package does not declare that dev dependency.
import { describeDocumentStoreContract } from '../../../test-utils/src/documentStoreContract'
import { createSqliteStore, type DocumentStore, SqliteStoreError } from '../index'

let dir: string
let counter = 0
const stores: DocumentStore[] = []

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'syncline-sqlite-'))
})

afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()))
  rmSync(dir, { recursive: true, force: true })
})

function open(path: string): DocumentStore {
  const store = createSqliteStore({ path })
  stores.push(store)
  return store
}

function textUpdate(doc: Y.Doc, words: string): Uint8Array {
  const before = Y.encodeStateVector(doc)
  const text = doc.getText('text')
  text.insert(text.length, words)
  return Y.encodeStateAsUpdate(doc, before)
}

function rebuild(stored: { snapshot: Uint8Array | null; updates: Uint8Array[] }): Y.Doc {
  const doc = new Y.Doc()
  if (stored.snapshot) Y.applyUpdate(doc, stored.snapshot)
  for (const update of stored.updates) Y.applyUpdate(doc, update)
  return doc
}

describeDocumentStoreContract('sqlite file', {
  create: () => createSqliteStore({ path: join(dir, `contract-${++counter}.db`) }),
  Y,
})

describeDocumentStoreContract('sqlite :memory:', {
  create: () => createSqliteStore({ path: ':memory:' }),
  Y,
})

describe('createSqliteStore', () => {
  it('keeps documents across closing and reopening the file', async () => {
    const path = join(dir, 'documents.db')
    const doc = new Y.Doc()
    const first = open(path)
    await first.append('room', [textUpdate(doc, 'persisted ')])
    const loaded = await first.load('room')
    await first.compact('room', Y.mergeUpdates(loaded!.updates), loaded!.position)
    await first.append('room', [textUpdate(doc, 'across restarts')])
    await first.close()
    // Closing checkpoints the WAL: only the database file is left.
    expect(readdirSync(dir)).toEqual(['documents.db'])

    const second = open(path)
    const stored = await second.load('room')
    expect(stored?.snapshot).not.toBeNull()
    expect(stored?.updates).toHaveLength(1)
    const reloaded = rebuild(stored!)
    expect(reloaded.getText('text').toString()).toBe('persisted across restarts')
    expect(Y.encodeStateAsUpdate(reloaded)).toEqual(Y.encodeStateAsUpdate(doc))
  })

  it('uses WAL mode', async () => {
    const path = join(dir, 'wal.db')
    const store = open(path)
    await store.append('room', [textUpdate(new Y.Doc(), 'x')])
    const db = new Database(path, { readonly: true })
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
    } finally {
      db.close()
    }
  })

  it('creates the file on first use, not on creation', async () => {
    const path = join(dir, 'lazy.db')
    const store = open(path)
    expect(readdirSync(dir)).toEqual([])
    expect(await store.load('room')).toBeNull()
    expect(readdirSync(dir)).toContain('lazy.db')
  })

  it('shares one file between two connections without losing concurrent appends', async () => {
    const path = join(dir, 'shared.db')
    const a = open(path)
    const b = open(path)
    const docA = new Y.Doc()
    const docB = new Y.Doc()
    const all = new Y.Doc()
    const push = async (store: DocumentStore, doc: Y.Doc, words: string) => {
      const update = textUpdate(doc, words)
      Y.applyUpdate(all, update)
      await store.append('room', [update])
    }
    await push(a, docA, 'a1 ')
    await push(b, docB, 'b1 ')
    const loaded = await a.load('room')
    await push(b, docB, 'b2 ')
    await a.compact('room', Y.mergeUpdates(loaded!.updates), loaded!.position)
    await push(a, docA, 'a2 ')
    const stored = await b.load('room')
    expect(stored?.updates).toHaveLength(2)
    expect(Y.encodeStateAsUpdate(rebuild(stored!))).toEqual(Y.encodeStateAsUpdate(all))
  })

  it('compacts atomically: a failed snapshot insert keeps the whole log', async () => {
    const path = join(dir, 'atomic.db')
    const store = open(path)
    const doc = new Y.Doc()
    for (const word of ['one ', 'two ', 'three'])
      await store.append('room', [textUpdate(doc, word)])
    const before = await store.load('room')

    const db = new Database(path)
    db.exec(`CREATE TRIGGER refuse_snapshots BEFORE INSERT ON syncline_document_log
      WHEN NEW.kind = 'snapshot' BEGIN SELECT RAISE(ABORT, 'disk full (simulated)'); END`)
    db.close()

    const error = await store
      .compact('room', Y.mergeUpdates(before!.updates), before!.position)
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SqliteStoreError)
    expect((error as SqliteStoreError).code).toBe('write_failed')
    expect((error as SqliteStoreError).message).toContain('disk full (simulated)')
    expect(await store.load('room')).toEqual(before)
  })

  describe('an unreadable file', () => {
    function garbage(bytes: Uint8Array): string {
      const path = join(dir, 'corrupt.db')
      writeFileSync(path, bytes)
      return path
    }

    const cases: [string, () => Uint8Array][] = [
      ['random bytes', () => new Uint8Array(8192).map((_, i) => (i * 7919 + 13) % 251)],
      [
        'a SQLite header followed by garbage',
        () => {
          const bytes = new Uint8Array(8192).map((_, i) => (i * 31 + 7) % 253)
          bytes.set(new TextEncoder().encode('SQLite format 3\0'))
          return bytes
        },
      ],
    ]

    for (const [name, make] of cases) {
      it(`makes load throw (never null) and leaves the file untouched: ${name}`, async () => {
        const path = garbage(make())
        const original = readFileSync(path)
        const store = open(path)

        const error = await store.load('room').catch((e: unknown) => e)
        expect(error).toBeInstanceOf(SqliteStoreError)
        expect((error as SqliteStoreError).code).toBe('open_failed')
        expect((error as SqliteStoreError).message).toContain(path)
        // Every later call fails the same way; none writes.
        await expect(store.load('room')).rejects.toBeInstanceOf(SqliteStoreError)
        await expect(store.append('room', [new Uint8Array([0, 0])])).rejects.toBeInstanceOf(
          SqliteStoreError,
        )
        await store.close()
        expect(readFileSync(path).equals(original)).toBe(true)
        expect(readdirSync(dir)).toEqual(['corrupt.db'])
      })
    }

    it('makes load throw when the database pages are damaged', async () => {
      const path = join(dir, 'damaged.db')
      const store = open(path)
      const doc = new Y.Doc()
      for (let i = 0; i < 50; i++) await store.append('room', [textUpdate(doc, 'x'.repeat(500))])
      await store.close()
      const bytes = readFileSync(path)
      // Keep page 1 (header and schema), overwrite the rest with garbage.
      for (let i = 4096; i < bytes.length; i++) bytes[i] = (i * 131) % 256
      writeFileSync(path, bytes)
      const damaged = readFileSync(path)

      const reopened = open(path)
      await expect(reopened.load('room')).rejects.toBeInstanceOf(SqliteStoreError)
      await reopened.close()
      expect(readFileSync(path).equals(damaged)).toBe(true)
    })

    it('refuses a file written by a newer schema without changing it', async () => {
      const path = join(dir, 'future.db')
      const db = new Database(path)
      db.pragma('user_version = 99')
      db.close()
      const original = readFileSync(path)

      const error = await open(path)
        .load('room')
        .catch((e: unknown) => e)
      expect((error as SqliteStoreError).code).toBe('unsupported_schema')
      expect((error as SqliteStoreError).message).toContain('upgrade @syncline/sqlite')
      expect(readFileSync(path).equals(original)).toBe(true)
    })

    it('says which directory is missing', async () => {
      const path = join(dir, 'missing', 'documents.db')
      const error = await open(path)
        .load('room')
        .catch((e: unknown) => e)
      expect((error as SqliteStoreError).code).toBe('open_failed')
      expect((error as SqliteStoreError).message).toContain('directory exists')
    })
  })
})
