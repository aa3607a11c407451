// Room documents over the native protocol with raw y-protocols messages: sync, acks and relays,
// load-before-answer, shared and failed loads, read-only members and malformed payloads.
import { CloseCode } from '@syncline/protocol'
import { deferred, spyStore } from '@syncline/test-utils'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { createMemoryStore, type DocumentStore, type SynclineServer } from '../index'
import {
  joinDoc,
  messageWith,
  readSync,
  serverState,
  statsReach,
  step1,
  syncDoc,
  textOf,
  textUpdate,
  updateMessage,
} from './docHarness'
import { join, useServer } from './harness'

const { start, client } = useServer()
let server: SynclineServer | undefined

/** A memory store that already holds `text` in room `room`. */
async function storeWith(room: string, text: string): Promise<DocumentStore> {
  const store = createMemoryStore()
  await store.append(room, [textUpdate(text)])
  return store
}

describe('document sync between native clients', () => {
  it('answers step 1 with step 2 and its own step 1, acks updates and relays them', async () => {
    server = await start()
    const a = await client()
    const b = await client()
    await joinDoc(a, 1, 'doc-room')
    await joinDoc(b, 2, 'doc-room')
    const docA = new Y.Doc()
    const docB = new Y.Doc()
    // A has offline edits: they travel as the step 2 answering the server's step 1.
    docA.getText('t').insert(0, 'offline ')
    await syncDoc(a, 1, docA, 7)
    // B receives A's edit as a relay (A's sync), then syncs (nothing missing any more).
    const relayed = await b.next('doc')
    expect(relayed.handle).toBe(2)
    expect(relayed.seq).toBe(0)
    Y.applyUpdate(docB, readSync(relayed.message).payload)
    expect(docB.getText('t').toString()).toBe('offline ')
    await syncDoc(b, 2, docB)

    // A live update from B: acked to B, relayed to A only (never echoed to B).
    docB.getText('t').insert(8, 'and online')
    const update = Y.encodeStateAsUpdate(docB, Y.encodeStateVector(docA))
    b.send({ type: 'doc', handle: 2, seq: 3, message: updateMessage(update) })
    expect(await b.next()).toEqual({ type: 'ack', handle: 2, seq: 3 })
    const toA = await a.next('doc')
    Y.applyUpdate(docA, readSync(toA.message).payload)
    expect(docA.getText('t').toString()).toBe('offline and online')
    b.send({ type: 'ping', id: 1 })
    expect(await b.next()).toEqual({ type: 'pong', id: 1 })
  })

  it("merges a window's updates into one frame per member; acks come in order", async () => {
    server = await start()
    const a = await client()
    const b = await client()
    const c = await client()
    await joinDoc(a, 1, 'turn-room')
    await joinDoc(b, 1, 'turn-room')
    await joinDoc(c, 1, 'turn-room')
    const docA = new Y.Doc()
    await syncDoc(a, 1, docA)
    await syncDoc(b, 1, new Y.Doc())
    const docC = new Y.Doc()
    await syncDoc(c, 1, docC)
    const updates: Uint8Array[] = []
    docA.on('update', (update: Uint8Array) => updates.push(update))
    docA.getText('t').insert(0, 'one')
    docA.getText('t').insert(3, ' two')
    // Both updates in one WebSocket message: the server handles them in one turn.
    a.send({
      type: 'batch',
      frames: updates.map((update, i) => ({
        type: 'doc' as const,
        handle: 1,
        seq: i + 1,
        message: updateMessage(update),
      })),
    })
    // A quiet room's window ends at once: both acks in one message, in order.
    expect(await messageWith(a, 'ack')).toEqual([
      { type: 'ack', handle: 1, seq: 1 },
      { type: 'ack', handle: 1, seq: 2 },
    ])
    // Both of a's updates reach b as ONE merged update; a (their only author) gets nothing back.
    const relayed = await messageWith(b, 'doc')
    expect(relayed.filter((frame) => frame.type === 'doc')).toHaveLength(1)
    const docB = new Y.Doc()
    for (const frame of relayed) {
      if (frame.type === 'doc') Y.applyUpdate(docB, readSync(frame.message).payload)
    }
    expect(docB.getText('t').toString()).toBe('one two')

    // Edits of two members in one window: everyone gets the merged update, authors included
    // (known content is a no-op for Yjs), and every copy converges.
    const docBUpdates: Uint8Array[] = []
    docB.on('update', (update: Uint8Array) => docBUpdates.push(update))
    docB.getText('t').insert(0, 'zero ')
    const fromA: Uint8Array[] = []
    docA.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin !== 'remote') fromA.push(update)
    })
    docA.getText('t').insert(docA.getText('t').length, ' three')
    a.send({ type: 'doc', handle: 1, seq: 3, message: updateMessage(fromA[0]!) })
    b.send({ type: 'doc', handle: 1, seq: 1, message: updateMessage(docBUpdates[0]!) })
    // c still has the first window's relay to read; each copy reads until it has everything.
    for (const [who, doc] of [
      [a, docA],
      [c, docC],
    ] as const) {
      while (doc.getText('t').toString() !== 'zero one two three') {
        for (const frame of await messageWith(who, 'doc')) {
          if (frame.type === 'doc') Y.applyUpdate(doc, readSync(frame.message).payload, 'remote')
        }
      }
    }
    expect(docA.getText('t').toString()).toBe('zero one two three')
    expect(docC.getText('t').toString()).toBe('zero one two three')
  })

  it('does not send document traffic to members that never asked for the document', async () => {
    server = await start()
    const writer = await client()
    const bystander = await client()
    await joinDoc(writer, 1, 'r')
    await join(bystander, 1, 'r')
    writer.send({ type: 'doc', handle: 1, seq: 1, message: updateMessage(textUpdate('x')) })
    expect(await writer.next('ack')).toMatchObject({ seq: 1 })
    writer.send({ type: 'broadcast', handle: 1, event: 'after', payload: null })
    // The first frame the bystander gets is the broadcast, not the document update.
    expect(await bystander.next()).toMatchObject({ type: 'event', event: 'after' })
  })

  it('a doc frame on a handle joined without the document loads it first', async () => {
    server = await start({ store: await storeWith('r', 'stored') })
    const a = await client()
    await join(a, 1, 'r')
    expect(textOf(await serverState(a, 1))).toBe('stored')
  })

  it('a doc frame with seq 0 is not acknowledged', async () => {
    server = await start()
    const a = await client()
    await joinDoc(a, 1, 'r')
    a.send({ type: 'doc', handle: 1, seq: 0, message: updateMessage(textUpdate('x')) })
    a.send({ type: 'ping', id: 9 })
    expect(await a.next()).toEqual({ type: 'pong', id: 9 })
  })
})

describe('loading before the first sync answer', () => {
  it('confirms the join and answers step 1 only after the store load resolved', async () => {
    const inner = await storeWith('slow', 'from the store')
    const gate = deferred<void>()
    const loadStarted = deferred<void>()
    const { store } = spyStore(inner, async (room, target) => {
      loadStarted.resolve()
      await gate.promise
      return target.load(room)
    })
    server = await start({ store })
    const a = await client()
    const other = await client()
    a.send({ type: 'join', handle: 1, room: 'slow', doc: true })
    // Pipelined right behind the join, as clients do.
    a.send({ type: 'doc', handle: 1, seq: 0, message: step1(new Y.Doc()) })
    await loadStarted.promise
    // A round trip on another socket: the server had every chance to answer `a` by now.
    other.send({ type: 'ping', id: 1 })
    expect(await other.next()).toEqual({ type: 'pong', id: 1 })
    expect(a.socket.pending).toBe(0)
    gate.resolve()
    expect(await a.next()).toMatchObject({ type: 'joined', handle: 1 })
    await a.next('presenceSnapshot')
    const step2 = await a.next('doc')
    expect(textOf(readSync(step2.message).payload)).toBe('from the store')
  })

  it('concurrent joins share one load', async () => {
    const gate = deferred<void>()
    const { store, calls } = spyStore(await storeWith('r', 'shared'), async (room, target) => {
      await gate.promise
      return target.load(room)
    })
    server = await start({ store })
    const [a, b, c] = await Promise.all([client(), client(), client()])
    for (const member of [a, b, c]) member.send({ type: 'join', handle: 4, room: 'r', doc: true })
    await statsReach(server, { documents: 1 })
    gate.resolve()
    for (const member of [a, b, c]) {
      expect(await member.next()).toMatchObject({ type: 'joined', handle: 4 })
      await member.next('presenceSnapshot')
    }
    expect(calls.load).toBe(1)
    expect(textOf(await serverState(c, 4))).toBe('shared')
    expect(calls.load).toBe(1)
  })

  it('a failed load refuses the waiting joins, writes nothing, and the next join retries', async () => {
    const inner = await storeWith('r', 'precious')
    const gate = deferred<void>()
    let failures = 1
    const { store, calls } = spyStore(inner, async (room, target) => {
      if (failures > 0) {
        failures -= 1
        await gate.promise
        throw new Error('disk on fire')
      }
      return target.load(room)
    })
    server = await start({ store })
    const a = await client()
    const b = await client()
    const other = await client()
    a.send({ type: 'join', handle: 1, room: 'r', doc: true })
    b.send({ type: 'join', handle: 1, room: 'r', doc: true })
    other.send({ type: 'ping', id: 1 })
    await other.next('pong')
    gate.resolve()
    for (const member of [a, b]) {
      expect(await member.next()).toEqual({
        type: 'denied',
        handle: 1,
        code: 'load_failed',
        reason: 'the document of room "r" could not be loaded; try again later',
      })
    }
    await statsReach(server, { documents: 0, rooms: 0 })
    expect(calls).toMatchObject({ load: 1, append: 0, compact: 0, delete: 0 })
    expect(textOf((await inner.load('r'))?.updates[0] ?? new Uint8Array([0, 0]))).toBe('precious')
    // The socket stays usable and the next join loads again.
    await joinDoc(a, 1, 'r')
    expect(calls.load).toBe(2)
    expect(textOf(await serverState(a, 1))).toBe('precious')
  })

  it('a failed load on the doc-frame path answers with a load_failed error', async () => {
    let fail = true
    const { store } = spyStore(createMemoryStore(), async (room, target) => {
      if (fail) {
        fail = false
        throw new Error('flaky')
      }
      return target.load(room)
    })
    server = await start({ store })
    const a = await client()
    await join(a, 1, 'r')
    a.send({ type: 'doc', handle: 1, seq: 5, message: updateMessage(textUpdate('x')) })
    expect(await a.next()).toMatchObject({ type: 'error', handle: 1, code: 'load_failed' })
    a.send({ type: 'doc', handle: 1, seq: 6, message: updateMessage(textUpdate('x')) })
    expect(await a.next()).toEqual({ type: 'ack', handle: 1, seq: 6 })
  })
})

describe('read-only members and bad input', () => {
  const authenticate = async ({ token }: { token?: string }) => ({
    userId: token ?? 'nobody',
    rooms: () => (token === 'reader' ? ('read' as const) : ('write' as const)),
  })

  it('drops a read-only write, says so, and still acks it; step 1 is answered', async () => {
    server = await start({ authenticate })
    const writer = await client({ token: 'writer' })
    const reader = await client({ token: 'reader' })
    await joinDoc(writer, 1, 'r')
    writer.send({ type: 'doc', handle: 1, seq: 1, message: updateMessage(textUpdate('mine')) })
    await writer.next('ack')
    expect(await joinDoc(reader, 1, 'r')).toMatchObject({ access: 'read' })
    const readerDoc = new Y.Doc()
    expect(textOf(await syncDoc(reader, 1, readerDoc, 1))).toBe('mine')
    const before = await serverState(writer, 1)
    reader.send({ type: 'doc', handle: 1, seq: 2, message: updateMessage(textUpdate('evil')) })
    expect(await reader.next()).toMatchObject({ type: 'error', handle: 1, code: 'read_only' })
    expect(await reader.next()).toEqual({ type: 'ack', handle: 1, seq: 2 })
    expect(await serverState(writer, 1)).toEqual(before)
  })

  it('a malformed sync payload closes that socket with 4400 and leaves the document as it was', async () => {
    server = await start()
    const a = await client()
    const b = await client()
    await joinDoc(a, 1, 'r')
    await joinDoc(b, 1, 'r')
    a.send({ type: 'doc', handle: 1, seq: 1, message: updateMessage(textUpdate('kept')) })
    await a.next('ack')
    await b.next('doc')
    const before = await serverState(a, 1)

    // A real update cut short inside its delete set: the structs decode, the rest does not.
    const doc = new Y.Doc()
    doc.getText('t').insert(0, 'half of this')
    doc.getText('t').delete(0, 5)
    const full = Y.encodeStateAsUpdate(doc)
    const truncated = full.subarray(0, full.length - 2)
    const bad = await client()
    await joinDoc(bad, 1, 'r')
    bad.send({ type: 'doc', handle: 1, seq: 1, message: updateMessage(truncated) })
    const closed = await bad.closed
    expect(closed.code).toBe(CloseCode.MalformedFrame)
    expect(closed.reason).toMatch(/^malformed sync payload/)

    const garbage = await client()
    await joinDoc(garbage, 1, 'r')
    garbage.send({ type: 'doc', handle: 1, seq: 0, message: new Uint8Array([7, 1, 2]) })
    expect((await garbage.closed).code).toBe(CloseCode.MalformedFrame)

    expect(await serverState(a, 1)).toEqual(before)
    expect(textOf(await serverState(b, 1))).toBe('kept')
  })
})
