// Room documents over time: persistence across restarts (memory and a real SQLite file),
// compaction, unloading after the delay, close() flushing, and documents across servers on one bus.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join as joinPath } from 'node:path'
import { spyStore } from '@syncline/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
// The real SQLite file store, imported from its sources by path: neither package depends on the
// other (they share only the DocumentStore contract), and a relative import keeps it that way
// while still type-checking here (better-sqlite3 resolves from packages/sqlite).
import { createSqliteStore } from '../../../sqlite/src/index'
import {
  createInProcessBus,
  createMemoryStore,
  type DocumentStore,
  type SynclineServer,
} from '../index'
import {
  joinDoc,
  readSync,
  serverState,
  statsReach,
  syncDoc,
  textOf,
  textUpdate,
  until,
  updateMessage,
} from './docHarness'
import { type Client, closeAll, connect, startServer } from './harness'

const servers: SynclineServer[] = []
const clients: Client[] = []

afterEach(async () => {
  await closeAll(...clients.splice(0))
  await closeAll(...servers.splice(0))
})

async function start(options: Parameters<typeof startServer>[0] = {}) {
  const server = await startServer(options)
  servers.push(server)
  return server
}

async function client(server: SynclineServer) {
  const opened = await connect(server)
  clients.push(opened)
  return opened
}

/** Writes `text` into room `room` on `server` and waits for the ack. */
async function write(server: SynclineServer, room: string, text: string): Promise<Client> {
  const writer = await client(server)
  await joinDoc(writer, 1, room)
  writer.send({ type: 'doc', handle: 1, seq: 1, message: updateMessage(textUpdate(text)) })
  await writer.next('ack')
  return writer
}

describe('persistence across restarts', () => {
  it('a document written, then server.close(), is intact on a new server with the same store', async () => {
    const { store, calls } = spyStore(createMemoryStore())
    const first = await start({ store })
    await write(first, 'notes', 'survives')
    await first.close()
    expect(calls.append).toBeGreaterThan(0)
    // A store passed in is the caller's: close() flushed it but did not close it.
    expect(calls.close).toBe(0)
    const second = await start({ store })
    const reader = await client(second)
    await joinDoc(reader, 1, 'notes')
    expect(textOf(await serverState(reader, 1))).toBe('survives')
  })

  it('keeps documents in a real SQLite file across a server restart', async () => {
    const dir = mkdtempSync(joinPath(tmpdir(), 'syncline-server-sqlite-'))
    try {
      const path = joinPath(dir, 'docs.db')
      const firstStore = createSqliteStore({ path }) as DocumentStore
      const first = await start({ store: firstStore })
      const writer = await client(first)
      await joinDoc(writer, 1, 'board')
      const doc = new Y.Doc()
      await syncDoc(writer, 1, doc)
      for (const word of ['one ', 'two ', 'three']) {
        const before = Y.encodeStateVector(doc)
        doc.getText('t').insert(doc.getText('t').length, word)
        const update = Y.encodeStateAsUpdate(doc, before)
        writer.send({ type: 'doc', handle: 1, seq: 10, message: updateMessage(update) })
        await writer.next('ack')
      }
      await first.close()
      await firstStore.close()

      const secondStore = createSqliteStore({ path }) as DocumentStore
      const second = await start({ store: secondStore })
      const reader = await client(second)
      await joinDoc(reader, 1, 'board')
      expect(textOf(await serverState(reader, 1))).toBe('one two three')
      await second.close()
      await secondStore.close()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('compacts the log with the configured thresholds', async () => {
    const { store, calls } = spyStore(createMemoryStore())
    const server = await start({
      store,
      persistence: { debounceMs: 1, maxWaitMs: 2, compactAfterUpdates: 2 },
    })
    const writer = await client(server)
    await joinDoc(writer, 1, 'r')
    for (let i = 0; i < 3; i++) {
      writer.send({
        type: 'doc',
        handle: 1,
        seq: i + 1,
        message: updateMessage(textUpdate(`${i}`)),
      })
      await writer.next('ack')
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    await server.close()
    expect(calls.compact).toBeGreaterThan(0)
    const stored = await store.load('r')
    expect(stored?.snapshot).not.toBeNull()
  })
})

describe('unloading', () => {
  it('unloads the document after the last member left and the delay passed; nothing is left', async () => {
    const server = await start({ documentUnloadDelayMs: 30 })
    const baseline = server.stats().timers
    const writer = await write(server, 'r', 'x')
    expect(server.stats()).toMatchObject({ documents: 1, rooms: 1 })
    await writer.close()
    // Right after the leave the document is still loaded (the delay runs).
    await statsReach(server, { connections: 0 })
    expect(server.stats().documents).toBe(1)
    await statsReach(server, { documents: 0, rooms: 0, timers: baseline })
  })

  it('a rejoin within the delay reuses the loaded document (no second load)', async () => {
    const { store, calls } = spyStore(createMemoryStore())
    const server = await start({ store, documentUnloadDelayMs: 60_000 })
    const writer = await write(server, 'r', 'kept in memory')
    await writer.close()
    await statsReach(server, { connections: 0 })
    const again = await client(server)
    await joinDoc(again, 1, 'r')
    expect(textOf(await serverState(again, 1))).toBe('kept in memory')
    expect(calls.load).toBe(1)
  })

  it('a reload after an unload waits for the last write of the previous one', async () => {
    let releaseAppend: (() => void) | undefined
    const inner = createMemoryStore()
    const { store, calls } = spyStore({
      ...inner,
      load: (room) => inner.load(room),
      async append(room, updates) {
        await new Promise<void>((resolve) => {
          releaseAppend = resolve
        })
        return inner.append(room, updates)
      },
      compact: (room, snapshot, upTo) => inner.compact(room, snapshot, upTo),
      delete: (room) => inner.delete(room),
      close: () => inner.close(),
    })
    const server = await start({ store, documentUnloadDelayMs: 1 })
    const writer = await write(server, 'r', 'late write')
    await writer.close()
    // The unload flushes (append stalls), so the document is still counted.
    await until(() => releaseAppend !== undefined, 'the unload to write')
    const reader = await client(server)
    reader.send({ type: 'join', handle: 1, room: 'r', doc: true })
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(calls.load).toBe(1)
    releaseAppend?.()
    await reader.next('joined')
    await reader.next('presenceSnapshot')
    expect(textOf(await serverState(reader, 1))).toBe('late write')
  })

  it('close() flushes pending writes of every room before resolving', async () => {
    const { store } = spyStore(createMemoryStore())
    const server = await start({ store, persistence: { debounceMs: 60_000, maxWaitMs: 60_000 } })
    await write(server, 'a', 'alpha')
    await write(server, 'b', 'beta')
    expect(await store.load('a')).toBeNull()
    await server.close()
    expect(server.stats()).toMatchObject({ documents: 0, rooms: 0, timers: 0 })
    const a = await store.load('a')
    const b = await store.load('b')
    expect(textOf(a?.updates[0] ?? new Uint8Array())).toBe('alpha')
    expect(textOf(b?.updates[0] ?? new Uint8Array())).toBe('beta')
  })
})

describe('documents across servers on one bus', () => {
  it('an edit on server A reaches a document client on server B, and B persists it too', async () => {
    const bus = createInProcessBus()
    const storeA = spyStore(createMemoryStore())
    const storeB = spyStore(createMemoryStore())
    const a = await start({ bus, store: storeA.store })
    const b = await start({ bus, store: storeB.store })
    const onB = await client(b)
    await joinDoc(onB, 1, 'shared')
    const docB = new Y.Doc()
    await syncDoc(onB, 1, docB)
    const onA = await client(a)
    await joinDoc(onA, 2, 'shared')
    onA.send({ type: 'doc', handle: 2, seq: 1, message: updateMessage(textUpdate('from A')) })
    await onA.next('ack')
    const relayed = await onB.next('doc')
    Y.applyUpdate(docB, readSync(relayed.message).payload)
    expect(docB.getText('t').toString()).toBe('from A')
    // B applied it (with a bus origin): not published again, so A's client gets no echo.
    onA.send({ type: 'ping', id: 1 })
    expect(await onA.next()).toEqual({ type: 'pong', id: 1 })
    expect(textOf(await serverState(onB, 1))).toBe('from A')
    await a.close()
    await b.close()
    expect(textOf((await storeB.store.load('shared'))?.updates[0] ?? new Uint8Array())).toBe(
      'from A',
    )
  })
})
