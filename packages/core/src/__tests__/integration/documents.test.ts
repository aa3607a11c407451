// Documents end to end: the real client (`createClient` over `ws`) against the real server on
// 127.0.0.1. Concurrent and offline edits converge, `synced` waits for the store, documents
// survive a server restart (memory and SQLite stores), a failed load writes nothing, malformed
// sync and awareness payloads close only their socket, read-only members' writes are dropped
// yet acknowledged, and a stock y-websocket client shares the same document and presence.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join as joinPath } from 'node:path'
import { encodeFrame } from '@syncline/protocol'
import { createMemoryStore, type DocumentStore, loadDocument } from '@syncline/server'
import {
  createSwitchableProxy,
  type Deferred,
  deferred,
  docChanges,
  docFingerprint,
  openTestSocket,
  recordEvents,
  recordingWebSocket,
  recordValues,
  type Subscribable,
  spyStore,
  waitForEqual,
  waitForValue,
  withTimeout,
} from '@syncline/test-utils'
import * as encoding from 'lib0/encoding'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import type { Awareness } from 'y-protocols/awareness'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
// The SQLite store from its sources by path: core does not depend on @syncline/sqlite, and a
// relative import type-checks here (better-sqlite3 resolves from packages/sqlite).
import { createSqliteStore } from '../../../../sqlite/src/index'
import type { SynclineError } from '../../errors'
import type { Room } from '../../room'
import { readServerDoc, settled, syncedAndSettled, textIs } from './documentHelpers'
import { connected, createLive, othersWhere, rawClient, synced } from './setup'

const live = createLive()
afterEach(() => live.cleanup())

const text = (room: Room) => room.doc.getText('t')

/** The server's copy of the room's Y.Text `t`, read through a fresh client. */
function serverText(port: number, room: string): Promise<string> {
  return readServerDoc(live, port, room, (doc) => doc.getText('t').toString())
}

/** Joins `room` with its document on each client and waits until all are synced. */
async function joinAll(clients: ReturnType<typeof live.client>[], room: string) {
  const rooms = clients.map((client) => client.join(room, { doc: true }))
  await Promise.all(rooms.map((joined) => synced(joined)))
  return rooms
}

/** Writes "Hello World" from `a` and waits until `b` has it and everything is acknowledged. */
async function helloWorld(a: Room, b: Room): Promise<void> {
  text(a).insert(0, 'Hello World')
  await textIs(b, 'Hello World')
  await Promise.all([syncedAndSettled(a), syncedAndSettled(b)])
}

/** A store owned by the test: closed after the servers using it, also when a test fails. */
function ownStore<S extends DocumentStore>(store: S, ...servers: { close(): Promise<void> }[]) {
  live.defer(async () => {
    for (const server of servers) await server.close()
    await store.close()
  })
  return store
}

describe('concurrent edits converge: "Hello World"', () => {
  it('A inserts "Beautiful " while B appends "!": both, and the server, read "Hello Beautiful World!"', async () => {
    const server = await live.startServer({})
    const [a, b] = await joinAll([live.client(server, {}), live.client(server, {})], 'hello')
    if (a === undefined || b === undefined) throw new Error('rooms missing')
    await helloWorld(a, b)

    // Both edits in one synchronous turn: neither client can have seen the other's.
    text(a).insert(6, 'Beautiful ')
    text(b).insert(11, '!')
    expect(text(a).toString()).toBe('Hello Beautiful World')
    expect(text(b).toString()).toBe('Hello World!')
    expect(a.hasPendingWrites.get()).toBe(true)
    expect(b.hasPendingWrites.get()).toBe(true)

    await Promise.all([
      textIs(a, 'Hello Beautiful World!'),
      textIs(b, 'Hello Beautiful World!'),
      settled(a),
      settled(b),
    ])
    expect(await serverText(server.port, 'hello')).toBe('Hello Beautiful World!')
    expect(a.status.get()).toBe('synced')
    expect(b.status.get()).toBe('synced')
  })

  it('B edits while offline (link cut), A edits meanwhile: after B reconnects all read "Hello Beautiful World!"', async () => {
    const server = await live.startServer({})
    const link = await createSwitchableProxy(server.port)
    live.defer(() => link.close())
    const clientB = live.client(link.port, {})
    const [a, b] = await joinAll([live.client(server, {}), clientB], 'hello-offline')
    if (a === undefined || b === undefined) throw new Error('rooms missing')
    await helloWorld(a, b)

    link.cut()
    await waitForEqual(b.status, 'reconnecting', { label: 'B reconnecting after the cut' })
    expect(clientB.status.get()).not.toBe('connected')
    text(b).insert(11, '!')
    expect(b.hasPendingWrites.get()).toBe(true)

    text(a).insert(6, 'Beautiful ')
    await settled(a)
    expect(await serverText(server.port, 'hello-offline')).toBe('Hello Beautiful World')
    // Still offline: B has seen nothing and its write is still pending.
    expect(text(b).toString()).toBe('Hello World!')
    expect(b.hasPendingWrites.get()).toBe(true)
    expect(b.status.get()).not.toBe('synced')

    link.restore()
    await syncedAndSettled(b, 10_000)
    await Promise.all([textIs(a, 'Hello Beautiful World!'), textIs(b, 'Hello Beautiful World!')])
    expect(await serverText(server.port, 'hello-offline')).toBe('Hello Beautiful World!')
    expect(b.status.get()).toBe('synced')
    expect(b.hasPendingWrites.get()).toBe(false)
    expect(a.status.get()).toBe('synced')
    expect(a.hasPendingWrites.get()).toBe(false)
  })
})

/** A memory store whose loads wait for a gate per room (opened by the test). */
function gatedStore() {
  const memory = createMemoryStore()
  const gates = new Map<string, { started: Deferred<void>; open: Deferred<void> }>()
  const gate = (room: string) => {
    let entry = gates.get(room)
    if (entry === undefined) {
      entry = { started: deferred(), open: deferred() }
      gates.set(room, entry)
    }
    return entry
  }
  const spied = spyStore(memory, async (room) => {
    const entry = gate(room)
    entry.started.resolve()
    await entry.open.promise
    return memory.load(room)
  })
  return { memory, store: spied.store, calls: spied.calls, gate }
}

describe('synced means loaded and acknowledged', () => {
  it('a room joined with its document is not synced before the store load resolves', async () => {
    const { memory, store, gate } = gatedStore()
    const stored = new Y.Doc()
    stored.getText('t').insert(0, 'stored')
    await memory.append('slow', [Y.encodeStateAsUpdate(stored)])
    const server = await live.startServer({ store })
    ownStore(memory, server)

    const client = live.client(server, {})
    const room = client.join('slow', { doc: true })
    const statuses = recordValues(room.status)
    await withTimeout(gate('slow').started.promise, 5_000, 'the store load to start')
    await connected(client)
    // The server holds `joined` back until the document is loaded.
    expect(room.status.get()).toBe('joining')

    // An edit made meanwhile is pending, and stays so until the server has it.
    room.doc.getMap('m').set('local', true)
    expect(room.hasPendingWrites.get()).toBe(true)
    expect(statuses.values).not.toContain('synced')

    gate('slow').open.resolve()
    await synced(room)
    // Synced implies the stored state arrived and the local edit was acknowledged.
    expect(text(room).toString()).toBe('stored')
    expect(room.hasPendingWrites.get()).toBe(false)
    expect(statuses.values.indexOf('synced')).toBe(statuses.values.length - 1)

    // A later edit shows in hasPendingWrites only; the status stays synced.
    const after = statuses.values.length
    text(room).insert(6, '!')
    expect(room.hasPendingWrites.get()).toBe(true)
    await settled(room)
    expect(statuses.values.slice(after)).toEqual([])
    expect(room.status.get()).toBe('synced')
    expect(await serverText(server.port, 'slow')).toBe('stored!')
    expect(
      await readServerDoc(live, server.port, 'slow', (doc) => doc.getMap('m').toJSON()),
    ).toEqual({ local: true })
    statuses.stop()
  })

  it('a document first touched in a joined room keeps the room "syncing" until the load resolves', async () => {
    const { memory, store, gate } = gatedStore()
    const server = await live.startServer({ store })
    ownStore(memory, server)
    const client = live.client(server, {})
    const room = client.join('late-doc', { presence: { name: 'Ada' } })
    await synced(room)

    const doc = room.doc
    expect(room.status.get()).toBe('syncing')
    await withTimeout(gate('late-doc').started.promise, 5_000, 'the store load to start')
    expect(room.status.get()).toBe('syncing')
    doc.getText('t').insert(0, 'typed while loading')
    expect(room.hasPendingWrites.get()).toBe(true)

    gate('late-doc').open.resolve()
    await synced(room)
    expect(room.hasPendingWrites.get()).toBe(false)
    expect(await serverText(server.port, 'late-doc')).toBe('typed while loading')
  })
})

describe('persistence across a server restart', () => {
  /**
   * Writes with a client, closes the server, starts a new one on the same port with
   * `secondStore` (after `between`), and checks that the client came back on its own with the
   * document intact and that a fresh client sees it too.
   */
  async function restartKeepsDocument(
    firstStore: DocumentStore,
    between: () => Promise<DocumentStore>,
  ): Promise<void> {
    const first = await live.startServer({ store: firstStore })
    const port = first.port
    const sockets = recordingWebSocket()
    const client = live.client(port, { WebSocket: sockets.WebSocket })
    const room = client.join('notes', { doc: true })
    await synced(room)
    text(room).insert(0, 'written before the restart')
    await settled(room)

    await first.close()
    expect(first.stats()).toMatchObject({ connections: 0, rooms: 0, documents: 0 })
    await waitForEqual(room.status, 'reconnecting', { label: 'the room reconnecting' })
    expect(sockets.closes[0]?.code).toBe(1001)
    const secondStore = await between()
    const stored = await loadDocument(secondStore, 'notes')
    if (stored === null) throw new Error('nothing was stored for "notes"')
    const storedDoc = new Y.Doc()
    Y.applyUpdate(storedDoc, stored)
    expect(storedDoc.getText('t').toString()).toBe('written before the restart')

    const second = await live.startServer({ port, store: secondStore })
    expect(second.port).toBe(port)
    await syncedAndSettled(room, 10_000)
    expect(text(room).toString()).toBe('written before the restart')
    expect(await serverText(port, 'notes')).toBe('written before the restart')

    // And it keeps working on the new server.
    text(room).insert(0, 'and after: ')
    await settled(room)
    expect(await serverText(port, 'notes')).toBe('and after: written before the restart')
    expect(client.status.get()).toBe('connected')
    await second.close()
    expect(second.stats()).toMatchObject({ connections: 0, rooms: 0, documents: 0 })
  }

  it('with the same memory store object', async () => {
    const memory = createMemoryStore()
    ownStore(memory)
    await restartKeepsDocument(memory, async () => memory)
  })

  it('with a SQLite file, reopened by a new store for the new server', async () => {
    const dir = mkdtempSync(joinPath(tmpdir(), 'syncline-core-docs-'))
    live.defer(() => rmSync(dir, { recursive: true, force: true }))
    const path = joinPath(dir, 'docs.db')
    const firstStore: DocumentStore = createSqliteStore({ path })
    ownStore(firstStore)
    await restartKeepsDocument(firstStore, async () => {
      await firstStore.close()
      return ownStore(createSqliteStore({ path }) as DocumentStore)
    })
  })

  it('a store whose load throws: the room is denied (load_failed) and the stored data is untouched', async () => {
    const memory = createMemoryStore()
    const precious = new Y.Doc()
    precious.getText('t').insert(0, 'precious')
    await memory.append('broken', [Y.encodeStateAsUpdate(precious)])
    const before = await loadDocument(memory, 'broken')
    let failing = true
    const { store, calls } = spyStore(memory, async (room) => {
      if (failing) throw new Error('disk on fire')
      return memory.load(room)
    })
    const server = await live.startServer({ store })
    ownStore(memory, server)

    const client = live.client(server, {})
    const room = client.join('broken', { doc: true })
    // An edit made before the refusal must not reach the store either.
    room.doc.getText('t').insert(0, 'empty-doc edit ')
    await waitForEqual(room.status, 'denied', { label: 'room denied' })
    expect(room.error.get()).toMatchObject({ code: 'load_failed' })
    expect(calls.load).toBe(1)

    // The next join tries again, and sees the stored document.
    failing = false
    const retry = live.client(server, {})
    const retried = retry.join('broken', { doc: true })
    await syncedAndSettled(retried)
    expect(text(retried).toString()).toBe('precious')

    await server.close()
    expect(calls).toMatchObject({ append: 0, compact: 0, delete: 0 })
    expect(await loadDocument(memory, 'broken')).toEqual(before)
  })
})

/** A y-protocols sync message: `type` then the payload as var-length bytes. */
function syncMessage(type: number, payload: Uint8Array, trailing: number[] = []): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, type)
  encoding.writeVarUint8Array(encoder, payload)
  for (const byte of trailing) encoding.writeUint8(encoder, byte)
  return encoding.toUint8Array(encoder)
}

/** A y-websocket message: outer type (0 sync, 1 awareness) then `body`. */
function yjsMessage(outer: number, body: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, outer)
  encoding.writeUint8Array(encoder, body)
  return encoding.toUint8Array(encoder)
}

/** A y-websocket awareness message carrying `update`. */
function awarenessMessage(update: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, 1)
  encoding.writeVarUint8Array(encoder, update)
  return encoding.toUint8Array(encoder)
}

/** An awareness update with one entry whose JSON state is cut short. */
function truncatedAwareness(): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, 1) // one entry
  encoding.writeVarUint(encoder, 1234) // clientID
  encoding.writeVarUint(encoder, 1) // clock
  encoding.writeVarString(encoder, '{"name":"x"}')
  const bytes = encoding.toUint8Array(encoder)
  return bytes.subarray(0, bytes.length - 4)
}

describe('malformed payloads close only their socket', () => {
  it('malformed sync and awareness payloads close the raw socket (4400); the document and the real clients are unaffected', async () => {
    const server = await live.startServer({})
    const sockets = recordingWebSocket()
    const [a, b] = await joinAll(
      [
        live.client(server, { WebSocket: sockets.WebSocket }),
        live.client(server, { WebSocket: sockets.WebSocket }),
      ],
      'guarded',
    )
    if (a === undefined || b === undefined) throw new Error('rooms missing')
    await helloWorld(a, b)
    const roots = { t: 'text' } as const
    const before = docFingerprint(a.doc, roots)

    // Valid updates against the room's state, then broken in ways a decoder must catch before
    // anything is applied: a truncated insert, and an update whose delete set is truncated
    // (Yjs integrates structs before it reads the delete set).
    const replica = new Y.Doc()
    Y.applyUpdate(replica, Y.encodeStateAsUpdate(a.doc))
    const base = Y.encodeStateVector(replica)
    replica.getText('t').insert(5, ' EVIL')
    const insert = Y.encodeStateAsUpdate(replica, base)
    const afterInsert = Y.encodeStateVector(replica)
    replica.getText('t').insert(0, 'X')
    replica.getText('t').delete(1, 3)
    const withDeletes = Y.encodeStateAsUpdate(replica, afterInsert)
    replica.destroy()

    const malformed: [string, Uint8Array][] = [
      ['a truncated update', syncMessage(2, insert.subarray(0, insert.length - 4))],
      ['an update with a truncated delete set', syncMessage(2, withDeletes.subarray(0, -1))],
      ['a truncated step 2', syncMessage(1, insert.subarray(0, insert.length - 2))],
      ['garbage as an update', syncMessage(2, new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]))],
      ['a state vector that does not decode', syncMessage(0, new Uint8Array([0x05, 0xff]))],
      ['an unknown sync message type', syncMessage(9, new Uint8Array([0]))],
      ['trailing bytes after an update', syncMessage(2, insert, [0, 1, 2])],
    ]
    for (const [label, message] of malformed) {
      const raw = await rawClient(server.port)
      raw.send({ type: 'join', handle: 1, room: 'guarded', doc: true, presence: { raw: true } })
      await raw.next('joined')
      raw.send({ type: 'doc', handle: 1, seq: 1, message })
      const close = await withTimeout(raw.socket.closed, 5_000, `the close after ${label}`)
      expect(close.code, label).toBe(4400)
      expect(close.reason, label).not.toBe('')
    }

    // A native awareness frame cut short does not decode: 4400 as well.
    const truncated = await rawClient(server.port)
    truncated.send({ type: 'join', handle: 1, room: 'guarded', doc: true, presence: {} })
    await truncated.next('joined')
    const awarenessFrame = encodeFrame({
      type: 'awareness',
      handle: 1,
      update: new Uint8Array([1, 2, 3, 4, 5, 6]),
    })
    truncated.socket.send(awarenessFrame.subarray(0, awarenessFrame.length - 3))
    expect((await withTimeout(truncated.socket.closed, 5_000, 'the close')).code).toBe(4400)

    // The same payloads over the y-websocket endpoint of the room.
    const yjsCases: [string, Uint8Array][] = [
      ['an awareness update that does not decode', awarenessMessage(new Uint8Array([0x05, 0xff]))],
      ['an awareness update with a truncated state', awarenessMessage(truncatedAwareness())],
      ['a truncated update', yjsMessage(0, syncMessage(2, insert.subarray(0, insert.length - 4)))],
      [
        'an update with a truncated delete set',
        yjsMessage(0, syncMessage(2, withDeletes.subarray(0, -1))),
      ],
    ]
    for (const [label, message] of yjsCases) {
      const socket = await openTestSocket(`ws://127.0.0.1:${server.port}/yjs/guarded`)
      // The server speaks first once the document is loaded (its sync step 1).
      await socket.next()
      socket.send(message)
      const close = await withTimeout(socket.closed, 5_000, `the close after ${label}`)
      expect(close.code, `/yjs: ${label}`).toBe(4400)
    }

    // Nothing of it reached the document, here or on the server.
    const reader = (doc: Y.Doc) => docFingerprint(doc, roots)
    expect(await readServerDoc(live, server.port, 'guarded', reader)).toEqual(before)
    expect(docFingerprint(a.doc, roots)).toEqual(before)
    expect(docFingerprint(b.doc, roots)).toEqual(before)

    // The real clients never lost their sockets and keep editing.
    expect(sockets.closes).toEqual([])
    text(a).insert(0, 'A: ')
    text(b).insert(11, '!')
    await Promise.all([textIs(a, 'A: Hello World!'), textIs(b, 'A: Hello World!')])
    await Promise.all([settled(a), settled(b)])
    expect(await serverText(server.port, 'guarded')).toBe('A: Hello World!')
    expect(sockets.closes).toEqual([])
  })

  it('a native awareness frame (not supported yet) is answered with an error, not a close', async () => {
    const server = await live.startServer({})
    const [a] = await joinAll([live.client(server, {})], 'aware')
    if (a === undefined) throw new Error('room missing')
    const raw = await rawClient(server.port)
    raw.send({ type: 'join', handle: 1, room: 'aware', doc: true, presence: {} })
    await raw.next('joined')
    raw.send({ type: 'awareness', handle: 1, update: new Uint8Array([0xff, 0xff, 0xff]) })
    expect(await raw.next('error')).toMatchObject({ handle: 1, code: 'unsupported' })
    // Still usable afterwards.
    raw.send({ type: 'ping', id: 7 })
    expect(await raw.next('pong')).toMatchObject({ id: 7 })
    await raw.socket.close()
    expect(a.status.get()).toBe('synced')
  })
})

describe('read-only members', () => {
  it("a read-only member's edit reaches nobody, it gets read_only, and still settles (the dropped write is acked)", async () => {
    const server = await live.startServer({
      authenticate: async ({ token }) =>
        token === 'reader'
          ? { userId: 'reader', rooms: () => 'read' as const }
          : { userId: token ?? 'writer' },
    })
    const writerClient = live.client(server, { auth: () => 'writer' })
    const readerClient = live.client(server, { auth: () => 'reader' })
    const [writer, reader] = await joinAll([writerClient, readerClient], 'read-only')
    if (writer === undefined || reader === undefined) throw new Error('rooms missing')
    expect(reader.access.get()).toBe('read')
    expect(writer.access.get()).toBe('write')
    text(writer).insert(0, 'shared')
    await textIs(reader, 'shared')
    await settled(writer)

    const errors = recordEvents(reader, 'error')
    text(reader).insert(0, 'sneaky ')
    expect(reader.hasPendingWrites.get()).toBe(true)
    await errors.waitForCount(1)
    const error = errors.calls[0]?.[0] as unknown as SynclineError
    expect(error.details).toMatchObject({ code: 'read_only', room: 'read-only' })
    await settled(reader)
    expect(reader.status.get()).toBe('synced')

    // The writer's next edit reaches the reader: by then the dropped write is long processed.
    text(writer).insert(6, ' marker')
    await docWhereTextIncludes(reader, 'marker')
    await settled(writer)
    expect(text(writer).toString()).toBe('shared marker')
    expect(await serverText(server.port, 'read-only')).toBe('shared marker')
    expect(reader.hasPendingWrites.get()).toBe(false)
    expect(reader.status.get()).toBe('synced')
    errors.stop()
  })
})

function docWhereTextIncludes(room: Room, part: string) {
  return waitForValue(docChanges(room.doc), (doc) => doc.getText('t').toString().includes(part), {
    label: `text containing "${part}"`,
  })
}

/** An Awareness' states as a store (current states first, then on every change). */
function awarenessStates(awareness: Awareness): Subscribable<Map<number, Record<string, unknown>>> {
  return {
    subscribe(listener) {
      const onChange = () => listener(awareness.getStates() as Map<number, Record<string, unknown>>)
      awareness.on('change', onChange)
      onChange()
      return () => awareness.off('change', onChange)
    },
  }
}

/** Resolves once the provider reports `sync` true. */
function providerSynced(provider: WebsocketProvider): Promise<boolean> {
  const store: Subscribable<boolean> = {
    subscribe(listener) {
      const onSync = (isSynced: boolean) => listener(isSynced)
      provider.on('sync', onSync)
      listener(provider.synced)
      return () => provider.off('sync', onSync)
    },
  }
  return waitForValue(store, (isSynced) => isSynced, { label: 'the y-websocket provider synced' })
}

describe('interop with a stock y-websocket client', () => {
  it('shares text edits and presence both ways with a native client', async () => {
    const server = await live.startServer({})
    const native = live.client(server, {})
    const room = native.join('interop', { doc: true, presence: { name: 'Native' } })
    await synced(room)
    text(room).insert(0, 'native ')

    const stockDoc = new Y.Doc()
    const provider = new WebsocketProvider(
      `ws://127.0.0.1:${server.port}/yjs`,
      'interop',
      stockDoc,
      {
        WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
        disableBc: true,
      },
    )
    let destroyed = false
    const destroyProvider = () => {
      if (destroyed) return
      destroyed = true
      provider.destroy()
    }
    live.defer(() => {
      destroyProvider()
      stockDoc.destroy()
    })
    provider.awareness.setLocalState({ name: 'Stock' })
    await providerSynced(provider)

    // Documents, both ways.
    await waitForValue(docChanges(stockDoc), (doc) => doc.getText('t').toString() === 'native ', {
      label: "the native client's text in the stock doc",
    })
    stockDoc.getText('t').insert(7, 'stock')
    await textIs(room, 'native stock')
    text(room).insert(0, '> ')
    await waitForValue(
      docChanges(stockDoc),
      (doc) => doc.getText('t').toString() === '> native stock',
      {
        label: 'the second native edit in the stock doc',
      },
    )
    await settled(room)
    expect(await serverText(server.port, 'interop')).toBe('> native stock')

    // Presence, both ways: the stock awareness state is a peer in `others`…
    await othersWhere(
      room,
      (others) => others.some((peer) => peer.presence.name === 'Stock'),
      'Stock in others',
    )
    // …and the native presence is an awareness state of the stock client.
    const names = (states: Map<number, Record<string, unknown>>) =>
      [...states.entries()]
        .filter(([clientID]) => clientID !== provider.awareness.clientID)
        .map(([, state]) => state.name)
    await waitForValue(
      awarenessStates(provider.awareness),
      (states) => names(states).includes('Native'),
      {
        label: 'Native in the stock awareness',
      },
    )

    // Changes travel too.
    room.updatePresence({ name: 'Native 2' })
    await waitForValue(
      awarenessStates(provider.awareness),
      (states) => names(states).includes('Native 2'),
      {
        label: 'the renamed native presence in the stock awareness',
      },
    )
    provider.awareness.setLocalStateField('name', 'Stock 2')
    await othersWhere(
      room,
      (others) => others.some((peer) => peer.presence.name === 'Stock 2'),
      'Stock 2 in others',
    )

    // The stock client leaving removes its peer.
    destroyProvider()
    await othersWhere(
      room,
      (others) => others.length === 0,
      'no others after the stock client left',
    )
  })
})
