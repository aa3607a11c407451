// The document window (`documentFlushMs`): writes are applied to the room's document together
// when a window ends — one transaction, one persistence entry, one bus message, one relay frame
// per member, acks in the same message — and windows are throttled leading edge first, so a
// write into a quiet room goes out at once. A long window makes "held" observable without
// timing: a frame sent after a held write is answered before it.
import type { Frame } from '@syncline/protocol'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { Bus } from '../bus'
import { decodeBusMessage } from '../busMessage'
import { createInProcessBus, createMemoryStore } from '../index'
import { joinDoc, messageWith, readSync, step1, syncDoc, textOf, updateMessage } from './docHarness'
import { type Client, useServer } from './harness'

const { start, client } = useServer()

/** A client whose Y.Doc is synced with `room`; `write` sends its next edit, numbered `seq`. */
async function editor(room: string, handle = 1) {
  const c = await client()
  await joinDoc(c, handle, room)
  const doc = new Y.Doc()
  await syncDoc(c, handle, doc)
  const updates: Uint8Array[] = []
  doc.on('update', (update: Uint8Array, origin: unknown) => {
    if (origin !== 'remote') updates.push(update)
  })
  return {
    client: c,
    doc,
    /** Types `text` at the end and sends it as one update frame numbered `seq`. */
    write(text: string, seq: number) {
      const t = doc.getText('t')
      t.insert(t.length, text)
      const update = updates.shift() as Uint8Array
      c.send({ type: 'doc', handle, seq, message: updateMessage(update) })
    },
    /** Applies relayed document frames until the text is `expected`. */
    async readUntil(expected: string) {
      while (doc.getText('t').toString() !== expected) {
        const frame = await c.next('doc')
        Y.applyUpdate(doc, readSync(frame.message).payload, 'remote')
      }
    },
  }
}

/** The next ack, skipping relayed document frames. */
async function nextAck(who: Client): Promise<Frame> {
  for (;;) {
    const frame = await who.next()
    if (frame.type !== 'doc') return frame
  }
}

/** Sends a ping and resolves with everything that arrived before its pong. */
async function framesBeforePong(who: Client, id: number): Promise<Frame[]> {
  who.send({ type: 'ping', id })
  const before: Frame[] = []
  for (;;) {
    const frame = await who.next()
    if (frame.type === 'pong' && frame.id === id) return before
    before.push(frame)
  }
}

describe('the document window', () => {
  it('a write into a quiet room is applied, acked and relayed at once, even with a long window', async () => {
    await start({ documentFlushMs: 60_000 })
    const a = await editor('quiet')
    const b = await editor('quiet')
    a.write('hello', 1)
    expect(await a.client.next('ack')).toEqual({ type: 'ack', handle: 1, seq: 1 })
    await b.readUntil('hello')
  })

  it('writes within the window wait for its end and are relayed as ONE frame, with the acks', async () => {
    await start({ documentFlushMs: 1000 })
    const a = await editor('busy')
    const b = await editor('busy')
    const c = await editor('busy')
    a.write('a1', 1) // leading edge: out at once, and the window starts
    await a.client.next('ack')
    await b.readUntil('a1')
    await c.readUntil('a1')
    // Inside the window: held. A ping sent after them is answered first.
    a.write(' a2', 2)
    b.doc.getText('t').insert(0, 'b1 ')
    const bUpdate = Y.encodeStateAsUpdate(b.doc, Y.encodeStateVector(a.doc))
    b.client.send({ type: 'doc', handle: 1, seq: 7, message: updateMessage(bUpdate) })
    expect(await framesBeforePong(a.client, 1)).toEqual([])
    expect(await framesBeforePong(b.client, 2)).toEqual([])
    // At the window's end: each author's ack and the merged relay share one message, and the
    // relay is one frame holding both members' writes.
    const toA = await messageWith(a.client, 'ack')
    expect(toA.filter((frame) => frame.type === 'ack')).toEqual([
      { type: 'ack', handle: 1, seq: 2 },
    ])
    expect(toA.filter((frame) => frame.type === 'doc')).toHaveLength(1)
    const toC = await messageWith(c.client, 'doc')
    expect(toC.filter((frame) => frame.type === 'doc')).toHaveLength(1)
    for (const frame of toA) {
      if (frame.type === 'doc') Y.applyUpdate(a.doc, readSync(frame.message).payload, 'remote')
    }
    for (const frame of toC) {
      if (frame.type === 'doc') Y.applyUpdate(c.doc, readSync(frame.message).payload, 'remote')
    }
    expect(a.doc.getText('t').toString()).toBe('b1 a1 a2')
    expect(c.doc.getText('t').toString()).toBe('b1 a1 a2')
    expect(await b.client.next('ack')).toEqual({ type: 'ack', handle: 1, seq: 7 })
  })

  it('a sync step 1 is answered with every write received, held ones included', async () => {
    await start({ documentFlushMs: 60_000 })
    const a = await editor('answer')
    a.write('first', 1)
    await a.client.next('ack')
    a.write(' second', 2) // held for a minute
    const late = await client()
    await joinDoc(late, 3, 'answer')
    late.send({ type: 'doc', handle: 3, seq: 0, message: step1(new Y.Doc()) })
    const answer = readSync((await late.next('doc')).message)
    expect(textOf(answer.payload)).toBe('first second')
    // Applying it for the answer also acknowledged it.
    expect(await a.client.next('ack')).toEqual({ type: 'ack', handle: 1, seq: 2 })
  })

  it('server.close() applies and stores writes still waiting for their window', async () => {
    const store = createMemoryStore()
    const server = await start({ documentFlushMs: 60_000, store })
    const a = await editor('closing')
    a.write('kept', 1)
    await a.client.next('ack')
    a.write(' too', 2)
    expect(await framesBeforePong(a.client, 1)).toEqual([])
    await server.close()
    expect(server.stats()).toMatchObject({ documents: 0, rooms: 0, timers: 0 })
    const stored = await store.load('closing')
    const doc = new Y.Doc()
    for (const update of stored?.updates ?? []) Y.applyUpdate(doc, update)
    expect(doc.getText('t').toString()).toBe('kept too')
    await store.close()
  })

  it('a window of writes reaches other servers as one bus message', async () => {
    const inner = createInProcessBus()
    const docUpdates: Uint8Array[] = []
    const bus: Bus = {
      publish(topic, bytes) {
        const message = decodeBusMessage(bytes)
        if (message?.kind === 'docUpdate') docUpdates.push(message.update)
        inner.publish(topic, bytes)
      },
      subscribe: (topic, listener) => inner.subscribe(topic, listener),
      close: () => inner.close(),
    }
    await start({ bus, documentFlushMs: 60_000 })
    const a = await editor('bus')
    const b = await editor('bus')
    a.write('x', 1) // a quiet room: applied and published at once
    await a.client.next('ack')
    a.write('y', 2)
    a.write('z', 3)
    b.write('!', 1)
    // Received (each connection answers in order) but held for the minute-long window…
    expect((await framesBeforePong(a.client, 1)).filter((f) => f.type === 'ack')).toEqual([])
    expect((await framesBeforePong(b.client, 2)).filter((f) => f.type === 'ack')).toEqual([])
    expect(docUpdates).toHaveLength(1)
    // …until a sync step 1 needs the document: everything waiting is applied in one go.
    const late = await client()
    await joinDoc(late, 9, 'bus')
    late.send({ type: 'doc', handle: 9, seq: 0, message: step1(new Y.Doc()) })
    expect(textOf(readSync((await late.next('doc')).message).payload)).toHaveLength(4)
    expect(await nextAck(a.client)).toEqual({ type: 'ack', handle: 1, seq: 2 })
    expect(await nextAck(a.client)).toEqual({ type: 'ack', handle: 1, seq: 3 })
    expect(await nextAck(b.client)).toEqual({ type: 'ack', handle: 1, seq: 1 })
    // The quiet room's write alone, then the three held ones as ONE bus message.
    expect(docUpdates).toHaveLength(2)
    const merged = new Y.Doc()
    for (const update of docUpdates) Y.applyUpdate(merged, update)
    expect(merged.getText('t').toString().length).toBe(4)
  })
})
