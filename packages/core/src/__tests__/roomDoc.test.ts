// room.doc, room.hasPendingWrites and room.awareness against the fake socket: the test plays a
// server that answers sync step 1 with step 2 plus its own step 1 (y-protocols against a server
// Y.Doc) and acks numbered doc frames, and checks what reaches the wire and when `synced` holds.
import type { FakeSocket } from '@syncline/test-utils'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  messageYjsSyncStep1,
  messageYjsSyncStep2,
  messageYjsUpdate,
  readSyncMessage,
  writeSyncStep1,
} from 'y-protocols/sync'
import * as Y from 'yjs'
import { connectionClientId } from '../presenceAwareness'
import type { RoomStatus } from '../room'
import { messageType } from './docServer'
import { setup, welcomeNext } from './harness'

/** Counts every Y.Doc constructed in this file's module graph (the room's included). */
const docs = vi.hoisted(() => ({ constructed: 0 }))
vi.mock('yjs', async (importOriginal) => {
  const actual = await importOriginal<typeof import('yjs')>()
  class CountedDoc extends actual.Doc {
    constructor(...args: ConstructorParameters<typeof actual.Doc>) {
      super(...args)
      docs.constructed++
    }
  }
  return { ...actual, Doc: CountedDoc }
})

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

/** The server's document side for one room, across sockets. */
class ServerDoc {
  readonly doc = new Y.Doc()
  /** Doc frames already processed, per socket. */
  readonly #processed = new Map<FakeSocket, number>()

  /**
   * Processes the client's doc frames not yet seen on `socket`, in order, until the client has
   * nothing more to say: step 1 is answered with step 2 and the server's own step 1, updates
   * are applied, numbered frames acked (unless `ack: false`).
   */
  serve(socket: FakeSocket, { ack = true } = {}): void {
    for (;;) {
      const frames = socket.framesOf('doc')
      const start = this.#processed.get(socket) ?? 0
      if (start >= frames.length) return
      this.#processed.set(socket, frames.length)
      for (const frame of frames.slice(start)) {
        const reply = encoding.createEncoder()
        const type = readSyncMessage(
          decoding.createDecoder(frame.message),
          reply,
          this.doc,
          'client',
        )
        if (type === messageYjsSyncStep1) {
          const step1 = encoding.createEncoder()
          writeSyncStep1(step1, this.doc)
          socket.deliver(
            { type: 'doc', handle: frame.handle, seq: 0, message: encoding.toUint8Array(reply) },
            { type: 'doc', handle: frame.handle, seq: 0, message: encoding.toUint8Array(step1) },
          )
        }
        if (frame.seq > 0 && ack)
          socket.deliver({ type: 'ack', handle: frame.handle, seq: frame.seq })
      }
    }
  }

  get text(): string {
    return this.doc.getText('t').toString()
  }
}

/** A client as user 'ada' on connection 'conn-1', its room 'r' (doc wanted) joined and synced. */
async function syncedDocRoom() {
  const ctx = setup()
  const server = new ServerDoc()
  const socket = await welcomeNext(ctx.server, { userId: 'ada', connectionId: 'conn-1' })
  const room = ctx.client.join('r', { presence: { name: 'Ada' }, doc: true })
  const statuses: RoomStatus[] = []
  room.status.listen((status) => statuses.push(status))
  socket.acceptJoins()
  server.serve(socket)
  expect(room.status.get()).toBe('synced')
  return { ...ctx, serverDoc: server, socket, room, statuses }
}

async function reconnect(ctx: Awaited<ReturnType<typeof syncedDocRoom>>): Promise<FakeSocket> {
  await vi.advanceTimersByTimeAsync(125)
  return ctx.server.last.welcome({ userId: 'ada', connectionId: 'conn-2' })
}

describe('room.doc', () => {
  it('is never created for a room used only for presence and broadcasts', async () => {
    const before = docs.constructed
    const { server, client } = setup()
    const socket = await welcomeNext(server)
    const room = client.join('lobby', { presence: { name: 'Ada', cursor: null as unknown } })
    socket.acceptJoins()
    expect(room.status.get()).toBe('synced')
    room.updatePresence({ cursor: { x: 1, y: 2 } })
    room.broadcast('emoji', '🎉')
    socket.presenceDiff('lobby', [
      { op: 'set', connectionId: 'b1', userId: 'bob', presence: { name: 'Bob' } },
    ])
    socket.drop()
    await vi.advanceTimersByTimeAsync(125)
    server.last.welcome().acceptJoins()
    room.leave()

    expect(docs.constructed).toBe(before)
    expect(room.hasPendingWrites.get()).toBe(false)
    for (const s of server.sockets) {
      expect(s.framesOf('doc')).toEqual([])
      expect(s.framesOf('awareness')).toEqual([])
      expect(s.framesOf('join').map((join) => join.doc)).toEqual([false])
    }
    client.destroy()
  })

  it('join({ doc: true }): the join asks for the doc; synced only after step 2 and every ack', async () => {
    const { server, client } = setup()
    const serverDoc = new ServerDoc()
    serverDoc.doc.getText('t').insert(0, 'stored')
    const room = client.join('r', { doc: true })
    // Typed before any connection: must reach the server and be acked before `synced`.
    room.doc.getText('t').insert(0, 'draft ')
    expect(room.hasPendingWrites.get()).toBe(true)
    const socket = await welcomeNext(server)
    expect(socket.framesOf('join')[0]?.doc).toBe(true)
    // Step 1 is pipelined right behind the join (no round trip waiting for `joined`); the
    // server handles the connection's frames in order, so it is answered after the join.
    const types = socket.received.map((frame) => frame.type)
    expect(types.indexOf('doc')).toBe(types.indexOf('join') + 1)
    const [step1] = socket.framesOf('doc')
    expect(step1).toMatchObject({ handle: socket.handleOf('r'), seq: 0 })
    expect(messageType(step1!.message)).toBe(messageYjsSyncStep1)

    socket.acceptJoins()
    expect(room.status.get()).toBe('syncing')

    serverDoc.serve(socket, { ack: false })
    // Step 2 arrived (the server has the doc loaded) and the client answered the server's step 1
    // with the offline draft, numbered: still not synced until that frame is acked.
    expect(room.doc.getText('t').toString()).toContain('stored')
    const answer = socket.framesOf('doc').at(-1)!
    expect(messageType(answer.message)).toBe(messageYjsSyncStep2)
    expect(answer.seq).toBeGreaterThan(0)
    expect(room.status.get()).toBe('syncing')
    expect(room.hasPendingWrites.get()).toBe(true)

    socket.deliver({ type: 'ack', handle: answer.handle, seq: answer.seq })
    expect(room.status.get()).toBe('synced')
    expect(room.hasPendingWrites.get()).toBe(false)
    expect(serverDoc.text).toBe(room.doc.getText('t').toString())
    client.destroy()
  })

  it('a local edit is pending until acked, and does not flip a synced room back to syncing', async () => {
    const { socket, room, serverDoc, client, statuses } = await syncedDocRoom()
    statuses.length = 0
    room.doc.getText('t').insert(0, 'Hello')
    expect(room.hasPendingWrites.get()).toBe(true)
    expect(room.status.get()).toBe('synced')
    const update = socket.framesOf('doc').at(-1)!
    expect(messageType(update.message)).toBe(messageYjsUpdate)
    expect(update).toMatchObject({ handle: socket.handleOf('r') })
    expect(update.seq).toBeGreaterThan(0)

    serverDoc.serve(socket)
    expect(room.hasPendingWrites.get()).toBe(false)
    expect(serverDoc.text).toBe('Hello')
    expect(statuses).toEqual([])
    client.destroy()
  })

  it('offline edits travel as ONE merged step-2 frame on the new handle after a reconnect', async () => {
    const ctx = await syncedDocRoom()
    const { socket: first, room, serverDoc, client, statuses } = ctx
    room.doc.getText('t').insert(0, 'Hello World')
    serverDoc.serve(first)
    const firstHandle = first.handleOf('r')

    first.drop()
    expect(room.status.get()).toBe('reconnecting')
    statuses.length = 0
    const text = room.doc.getText('t')
    text.insert(11, '?')
    text.delete(11, 1)
    text.insert(11, '!')
    text.insert(0, '> ')
    expect(room.hasPendingWrites.get()).toBe(true)

    const second = await reconnect(ctx)
    expect(second.framesOf('join')[0]?.doc).toBe(true)
    second.acceptJoins()
    // Presence snapshot is in, but the document is not synced yet.
    expect(room.status.get()).toBe('syncing')
    serverDoc.serve(second, { ack: false })
    const frames = second.framesOf('doc')
    const handle = second.handleOf('r')
    expect(handle).not.toBe(firstHandle)
    expect(frames.every((frame) => frame.handle === handle)).toBe(true)
    // Step 1, then one step 2 that carries all four offline transactions; no replayed updates.
    expect(frames.map((frame) => messageType(frame.message))).toEqual([
      messageYjsSyncStep1,
      messageYjsSyncStep2,
    ])
    expect(frames[1]!.seq).toBeGreaterThan(0)
    expect(serverDoc.text).toBe('> Hello World!')
    expect(room.status.get()).toBe('syncing')

    second.deliver({ type: 'ack', handle, seq: frames[1]!.seq })
    expect(room.status.get()).toBe('synced')
    expect(room.hasPendingWrites.get()).toBe(false)
    expect(statuses).toEqual(['syncing', 'synced'])
    client.destroy()
  })

  it('first accessed after joining: sends step 1 on the current handle, syncs, rejoins with the flag', async () => {
    const { server, client } = setup()
    const serverDoc = new ServerDoc()
    serverDoc.doc.getText('t').insert(0, 'existing')
    const socket = await welcomeNext(server)
    const room = client.join('r')
    socket.acceptJoins()
    expect(room.status.get()).toBe('synced')
    expect(socket.framesOf('join')[0]?.doc).toBe(false)

    const doc = room.doc
    expect(room.status.get()).toBe('syncing')
    expect(socket.framesOf('doc').map((frame) => [frame.handle, frame.seq])).toEqual([
      [socket.handleOf('r'), 0],
    ])
    serverDoc.serve(socket)
    expect(room.status.get()).toBe('synced')
    expect(doc.getText('t').toString()).toBe('existing')

    socket.drop()
    await vi.advanceTimersByTimeAsync(125)
    const second = server.last.welcome()
    expect(second.framesOf('join')[0]?.doc).toBe(true)
    client.destroy()
  })

  it('retries a document load the server reported as failed after joining, with backoff', async () => {
    const { server, client } = setup()
    const serverDoc = new ServerDoc()
    serverDoc.doc.getText('t').insert(0, 'stored')
    const socket = await welcomeNext(server)
    const room = client.join('r')
    socket.acceptJoins()
    const errors: unknown[] = []
    room.on('error', (error) => errors.push(error))
    const doc = room.doc
    const handle = socket.handleOf('r')
    expect(socket.framesOf('doc')).toHaveLength(1)

    // The store is down: the server says so instead of answering.
    socket.deliver({ type: 'error', handle, code: 'load_failed', message: 'store unavailable' })
    expect(errors).toHaveLength(1)
    expect(room.status.get()).toBe('syncing')
    // The first retry comes within the first backoff cap (1 s), the second within 2 s more.
    await vi.advanceTimersByTimeAsync(1_000)
    expect(socket.framesOf('doc')).toHaveLength(2)
    socket.deliver({ type: 'error', handle, code: 'load_failed', message: 'store unavailable' })
    await vi.advanceTimersByTimeAsync(2_000)
    expect(socket.framesOf('doc')).toHaveLength(3)

    // The store is back: the retried step 1 is answered and the room syncs; no timer is left.
    const last = socket.framesOf('doc').at(-1)
    expect(last).toMatchObject({ handle, seq: 0 })
    const reply = encoding.createEncoder()
    readSyncMessage(decoding.createDecoder(last!.message), reply, serverDoc.doc, 'client')
    socket.deliver({ type: 'doc', handle, seq: 0, message: encoding.toUint8Array(reply) })
    expect(room.status.get()).toBe('synced')
    expect(doc.getText('t').toString()).toBe('stored')
    await vi.advanceTimersByTimeAsync(60_000)
    expect(socket.framesOf('doc')).toHaveLength(3)
    client.destroy()
    expect(vi.getTimerCount()).toBe(0)
  })

  it('a pending document-load retry dies with the room', async () => {
    const { server, client } = setup()
    const socket = await welcomeNext(server)
    const room = client.join('r')
    socket.acceptJoins()
    void room.doc
    socket.deliver({
      type: 'error',
      handle: socket.handleOf('r'),
      code: 'load_failed',
      message: 'x',
    })
    room.leave()
    await vi.advanceTimersByTimeAsync(60_000)
    expect(socket.framesOf('doc')).toHaveLength(1)
    client.destroy()
    expect(vi.getTimerCount()).toBe(0)
  })

  it('a later join({ doc: true }) on a held room creates the doc', async () => {
    const { client } = setup()
    const room = client.join('r')
    expect(room._hasDoc()).toBe(false)
    expect(client.join('r', { doc: true })).toBe(room)
    expect(room._hasDoc()).toBe(true)
    client.destroy()
  })

  it('leave destroys the doc and its awareness and leaves no timer behind', async () => {
    const { socket, room, client } = await syncedDocRoom()
    const timers = vi.getTimerCount()
    const awareness = room.awareness
    // The Awareness' 30 s expiry interval is switched off: presence has its own liveness.
    expect(vi.getTimerCount()).toBe(timers)
    const doc = room.doc
    const undo = room.undoManager()
    const destroyed = vi.fn()
    const awarenessDestroyed = vi.fn()
    doc.on('destroy', destroyed)
    awareness.on('destroy', awarenessDestroyed)
    doc.getText('t').insert(0, 'x')

    room.leave()
    expect(room.status.get()).toBe('left')
    expect(doc.isDestroyed).toBe(true)
    expect(destroyed).toHaveBeenCalledTimes(1)
    expect(awarenessDestroyed).toHaveBeenCalledTimes(1)
    expect(undo.canUndo.get()).toBe(false)
    expect(room.doc).toBe(doc) // Late readers get the destroyed doc, not a new one.
    expect(socket.framesOf('leave')).toHaveLength(1)
    // A frame for the old handle after the leave is ignored.
    const docFrames = socket.framesOf('doc').length
    socket.deliver({ type: 'ack', handle: socket.handleOf('r'), seq: 1 })
    expect(socket.framesOf('doc')).toHaveLength(docFrames)

    client.destroy()
    expect(vi.getTimerCount()).toBe(0)
  })

  it('client.destroy destroys every room doc; a closed room does not create a new one', async () => {
    const { server, client } = setup()
    await welcomeNext(server)
    const withDoc = client.join('a', { doc: true })
    const without = client.join('b')
    const doc = withDoc.doc
    client.destroy()
    expect(doc.isDestroyed).toBe(true)
    expect(() => without.doc).toThrow(expect.objectContaining({ code: 'room_closed' }))
    expect(() => without.awareness).toThrow(expect.objectContaining({ code: 'room_closed' }))
    expect(vi.getTimerCount()).toBe(0)
  })

  it('a denied room destroys its doc', async () => {
    const { server, client } = setup()
    const socket = await welcomeNext(server)
    const room = client.join('secret', { doc: true })
    const doc = room.doc
    socket.deliver({
      type: 'denied',
      handle: socket.handleOf('secret'),
      code: 'forbidden',
      reason: 'no',
    })
    expect(room.status.get()).toBe('denied')
    expect(doc.isDestroyed).toBe(true)
    // Only the step 1 pipelined behind the join (the server drops it with the denied join).
    expect(socket.framesOf('doc').map((frame) => messageType(frame.message))).toEqual([
      messageYjsSyncStep1,
    ])
    client.destroy()
  })

  it('a malformed doc message is reported on the room and leaves the doc untouched', async () => {
    const { socket, room, client, errors } = await syncedDocRoom()
    room.doc.getText('t').insert(0, 'kept')
    const roomErrors: unknown[] = []
    room.on('error', (error) => roomErrors.push(error))
    socket.deliver({
      type: 'doc',
      handle: socket.handleOf('r'),
      seq: 0,
      message: new Uint8Array([1, 9, 9]),
    })
    expect(roomErrors).toEqual([expect.objectContaining({ code: 'protocol_error' })])
    expect(room.doc.getText('t').toString()).toBe('kept')
    expect(socket.isOpen).toBe(true)
    expect(errors).toEqual([])
    client.destroy()
  })

  it('doc frames for a room without a doc are ignored (no doc created)', async () => {
    const before = docs.constructed
    const { server, client } = setup()
    const socket = await welcomeNext(server)
    const room = client.join('r')
    socket.acceptJoins()
    const step1 = encoding.createEncoder()
    writeSyncStep1(step1, new Y.Doc())
    socket.deliver(
      { type: 'doc', handle: socket.handleOf('r'), seq: 0, message: encoding.toUint8Array(step1) },
      { type: 'ack', handle: socket.handleOf('r'), seq: 1 },
    )
    expect(docs.constructed).toBe(before + 1) // The test's own doc only.
    expect(room._hasDoc()).toBe(false)
    expect(socket.framesOf('doc')).toEqual([])
    client.destroy()
  })

  it('a doc update too large for the server is reported on the room and stays pending', async () => {
    const { server, client } = setup()
    const serverDoc = new ServerDoc()
    const socket = await welcomeNext(server, { maxPayloadBytes: 200 })
    const room = client.join('r', { doc: true })
    socket.acceptJoins()
    serverDoc.serve(socket)
    const errors: unknown[] = []
    room.on('error', (error) => errors.push(error))
    const sent = socket.framesOf('doc').length
    room.doc.getText('t').insert(0, 'x'.repeat(500))
    expect(socket.framesOf('doc')).toHaveLength(sent)
    expect(errors).toEqual([expect.objectContaining({ code: 'payload_too_large' })])
    expect(room.hasPendingWrites.get()).toBe(true)
    expect(socket.isOpen).toBe(true)
    client.destroy()
  })
})

describe('room.awareness', () => {
  it('mirrors local presence: setLocalStateField sends presence once, updatePresence shows locally', async () => {
    const { socket, room, client } = await syncedDocRoom()
    const awareness = room.awareness
    expect(awareness.getLocalState()).toEqual({ name: 'Ada' })
    expect(awareness.clientID).toBe(room.doc.clientID)
    socket.take()

    awareness.setLocalStateField('cursor', { anchor: 3, head: 5 })
    expect(room.self.get().presence).toEqual({ name: 'Ada', cursor: { anchor: 3, head: 5 } })
    await vi.advanceTimersByTimeAsync(200)
    expect(socket.take('presence').map((frame) => frame.presence)).toEqual([
      { name: 'Ada', cursor: { anchor: 3, head: 5 } },
    ])

    const changes = vi.fn()
    awareness.on('change', changes)
    room.updatePresence({ name: 'Ada L.' })
    expect(awareness.getLocalState()).toEqual({ name: 'Ada L.', cursor: { anchor: 3, head: 5 } })
    expect(changes).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(200)
    // One frame for one update: applying it to the awareness was not echoed back.
    expect(socket.take('presence')).toHaveLength(1)

    // setLocalState replaces: keys it lacks leave the presence.
    awareness.setLocalState({ name: 'Ada' })
    expect(room.self.get().presence).toEqual({ name: 'Ada' })
    // A value presence cannot carry is reported on the room, not thrown into the binding.
    const errors: unknown[] = []
    room.on('error', (error) => errors.push(error))
    expect(() => awareness.setLocalStateField('bad', 1n)).not.toThrow()
    expect(errors).toEqual([expect.objectContaining({ code: 'invalid_argument' })])
    expect(room.self.get().presence).toEqual({ name: 'Ada' })
    client.destroy()
  })

  it('shows remote connections under stable clientIDs with change events, and removes them', async () => {
    const { socket, room, client } = await syncedDocRoom()
    socket.presenceDiff('r', [
      { op: 'set', connectionId: 'b1', userId: 'bob', presence: { name: 'Bob' } },
    ])
    const awareness = room.awareness
    const bob = connectionClientId('b1')
    expect(awareness.getStates().get(bob)).toEqual({ name: 'Bob' })
    socket.take()

    const changes: unknown[] = []
    const updates: unknown[] = []
    awareness.on('change', (change: unknown) => changes.push(change))
    awareness.on('update', (change: unknown) => updates.push(change))

    socket.presenceDiff('r', [
      { op: 'set', connectionId: 'c1', userId: 'cy', presence: { name: 'Cy', cursor: 4 } },
    ])
    const cy = connectionClientId('c1')
    expect(awareness.getStates().get(cy)).toEqual({ name: 'Cy', cursor: 4 })
    expect(changes.at(-1)).toEqual({ added: [cy], updated: [], removed: [] })

    socket.presenceDiff('r', [
      { op: 'set', connectionId: 'c1', userId: 'cy', presence: { name: 'Cy', cursor: 9 } },
    ])
    expect(awareness.getStates().get(cy)).toEqual({ name: 'Cy', cursor: 9 })
    expect(changes.at(-1)).toEqual({ added: [], updated: [cy], removed: [] })

    socket.presenceDiff('r', [{ op: 'remove', connectionId: 'b1', userId: 'bob' }])
    expect(awareness.getStates().has(bob)).toBe(false)
    expect(changes.at(-1)).toEqual({ added: [], updated: [], removed: [bob] })
    expect(updates).toHaveLength(3)
    // Remote states are never sent back as our presence.
    await vi.advanceTimersByTimeAsync(200)
    expect(socket.take('presence')).toEqual([])
    expect(awareness.getLocalState()).toEqual({ name: 'Ada' })

    // Idle peers are not expired by the Awareness' 30 s rule.
    await vi.advanceTimersByTimeAsync(60_000)
    expect(awareness.getStates().get(cy)).toEqual({ name: 'Cy', cursor: 9 })
    client.destroy()
  })

  it('never gives a remote connection the local clientID', async () => {
    const { socket, room, client } = await syncedDocRoom()
    room.doc.clientID = connectionClientId('b1')
    const awareness = room.awareness
    socket.presenceDiff('r', [
      { op: 'set', connectionId: 'b1', userId: 'bob', presence: { name: 'Bob' } },
    ])
    expect(awareness.getStates().size).toBe(2)
    expect(awareness.getLocalState()).toEqual({ name: 'Ada' })
    expect(awareness.getStates().get((connectionClientId('b1') + 1) >>> 0)).toEqual({ name: 'Bob' })
    client.destroy()
  })

  it('accessing awareness creates the doc and asks for it', async () => {
    const { server, client } = setup()
    const socket = await welcomeNext(server)
    const room = client.join('r')
    socket.acceptJoins()
    expect(room._hasDoc()).toBe(false)
    expect(room.awareness.doc).toBe(room.doc)
    expect(socket.framesOf('doc')).toHaveLength(1)
    client.destroy()
  })
})
