// The room's document window at unit level, for what sockets cannot provoke: writes decoded in
// full that Yjs still refuses to apply together. The room falls back to applying them one by
// one, closes only the sender of the failing one, and applies, acks and relays the rest.
import { CloseCode, decodeFrame } from '@syncline/protocol'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { createMemoryStore } from '../memoryStore'
import { resolveOptions } from '../options'
import { type Membership, Room, type RoomPeer } from '../room'
import { RoomDocument } from '../roomDocument'
import { TimerSet } from '../timers'
import { readSync, textOf, textUpdate, updateMessage } from './docHarness'

/** A peer that records what it is sent and how it was closed. */
function recordingPeer(connectionId: string) {
  const sent: Uint8Array[] = []
  const closed: Array<{ code: number; reason: string }> = []
  const peer: RoomPeer = {
    connectionId,
    userId: connectionId,
    protocol: 'native',
    send: (bytes) => sent.push(bytes),
    sendTick: (frames) => sent.push(...frames),
    close: (code, reason) => closed.push({ code, reason }),
  }
  return { peer, sent, closed }
}

/** A document whose Yjs apply throws whenever `poison` is among the updates, like a Yjs bug would. */
class PoisonedDocument extends RoomDocument {
  static poison: Uint8Array | undefined
  override apply(updates: readonly Uint8Array[], origin: object | undefined): void {
    const poison = PoisonedDocument.poison
    const isPoison = (update: Uint8Array) =>
      poison !== undefined && Buffer.from(update).equals(Buffer.from(poison))
    if (updates.some(isPoison)) {
      throw new TypeError('Cannot read properties of undefined')
    }
    super.apply(updates, origin)
  }
}

describe('a window whose writes Yjs cannot apply together', () => {
  const timers = new TimerSet()
  let room: Room
  let document: RoomDocument | undefined
  const warnings: unknown[] = []

  beforeEach(() => {
    vi.useFakeTimers()
    const { persistence } = resolveOptions()
    room = new Room('poison', {
      bus: undefined,
      serverId: 'test',
      logger: { warn: (...args) => warnings.push(args), error: (...args) => warnings.push(args) },
      now: () => Date.now(),
      presenceTimeoutMs: 30_000,
      schedule: () => {},
      catchUpPresence: () => {},
      onDispose: () => {},
      timers,
      documentUnloadDelayMs: 0,
      documentFlushMs: 16,
      documents: {
        async load(name, onUpdate) {
          document = new PoisonedDocument({
            room: name,
            store: createMemoryStore(),
            persistence,
            onUpdate,
            onPersistenceError: (error) => warnings.push(error),
          })
          await document.load()
          return document
        },
        unload: (_name, loaded) => void loaded.dispose(),
      },
    })
  })

  afterEach(async () => {
    room.dispose()
    timers.clearAll()
    await document?.dispose()
    vi.useRealTimers()
  })

  it('applies them one by one, closes only the failing sender, and acks and relays the rest', async () => {
    await room.loadDocument()
    const members = ['a', 'b', 'c'].map((id, i) => {
      const recorder = recordingPeer(id)
      const membership: Membership = room.join(recorder.peer, i + 1, 'write', undefined, true)
      return { ...recorder, membership, acks: 0 }
    })
    const [a, b, c] = members as [(typeof members)[0], (typeof members)[0], (typeof members)[0]]
    const good = textUpdate('good')
    const bad = Y.encodeStateAsUpdate(
      (() => {
        const doc = new Y.Doc()
        doc.getText('t').insert(0, 'bad')
        return doc
      })(),
    )
    PoisonedDocument.poison = bad
    // Both arrive in one window: the first opens it at once, so send them in the same turn.
    for (const [member, update] of [
      [a, good],
      [b, bad],
    ] as const) {
      const outcome = room.receiveSync(member.membership, updateMessage(update), true, () => {
        member.acks += 1
      })
      expect(outcome.deferred).toBe(true)
    }
    vi.advanceTimersByTime(16)

    expect(b.closed).toEqual([
      {
        code: CloseCode.MalformedFrame,
        reason: 'the update could not be applied: Cannot read properties of undefined',
      },
    ])
    expect(a.closed).toEqual([])
    expect([a.acks, b.acks]).toEqual([1, 0])
    expect(document?.doc.getText('t').toString()).toBe('good')
    // c, who wrote nothing, is relayed exactly what the document took.
    expect(c.sent).toHaveLength(1)
    const frame = decodeFrame(c.sent[0] as Uint8Array)
    if (frame.type !== 'doc') throw new Error(`expected a doc frame, got ${frame.type}`)
    expect(textOf(readSync(frame.message).payload)).toBe('good')
    expect(timers.size).toBe(0)
  })
})
