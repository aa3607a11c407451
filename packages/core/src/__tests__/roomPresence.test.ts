import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { selectOthers } from '../presence'
import { flush, setup, welcomeNext } from './harness'

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

/** A client in room 'r' as user 'ada' on connection 'conn-1', joined; snapshot not yet sent. */
async function joined(presence: Record<string, unknown> = { name: 'Ada' }, extra = {}) {
  const ctx = setup(extra)
  const socket = await welcomeNext(ctx.server, { userId: 'ada', connectionId: 'conn-1' })
  const room = ctx.client.join('r', { presence })
  socket.acceptJoins('write', { snapshot: false })
  return { ...ctx, socket, room }
}

describe('room presence', () => {
  it('is synced only after joined AND the first snapshot; others come from snapshot + diffs', async () => {
    const { socket, room } = await joined()
    expect(room.status.get()).toBe('syncing')
    socket.presenceSnapshot('r', [
      { connectionId: 'conn-1', userId: 'ada', presence: { name: 'Ada' } },
      { connectionId: 'b1', userId: 'bob', presence: { name: 'Bob' } },
    ])
    expect(room.status.get()).toBe('synced')
    expect(room.others.get()).toEqual([
      {
        userId: 'bob',
        presence: { name: 'Bob' },
        connections: [{ connectionId: 'b1', presence: { name: 'Bob' } }],
      },
    ])
    socket.presenceDiff('r', [
      { op: 'set', connectionId: 'c1', userId: 'cy', presence: { name: 'Cy' } },
      { op: 'remove', connectionId: 'b1', userId: 'bob' },
    ])
    expect(room.others.get().map((peer) => peer.userId)).toEqual(['cy'])
  })

  it('shows one entry per user with all their connections; your own other tabs are in self', async () => {
    const { socket, room } = await joined()
    socket.presenceSnapshot('r', [
      { connectionId: 'b1', userId: 'bob', presence: { tab: 1 } },
      { connectionId: 'conn-1', userId: 'ada', presence: { name: 'Ada' } },
      { connectionId: 'b2', userId: 'bob', presence: { tab: 2 } },
      { connectionId: 'a2', userId: 'ada', presence: { name: 'Ada', tab: 2 } },
    ])
    expect(room.others.get()).toEqual([
      {
        userId: 'bob',
        presence: { tab: 2 },
        connections: [
          { connectionId: 'b1', presence: { tab: 1 } },
          { connectionId: 'b2', presence: { tab: 2 } },
        ],
      },
    ])
    expect(room.self.get()).toEqual({
      userId: 'ada',
      presence: { name: 'Ada' },
      connections: [
        { connectionId: 'conn-1', presence: { name: 'Ada' } },
        { connectionId: 'a2', presence: { name: 'Ada', tab: 2 } },
      ],
    })
  })

  it('on a sequence gap asks for a resync and never shows a list built on a wrong base', async () => {
    const { socket, room } = await joined()
    socket.presenceSnapshot('r', [{ connectionId: 'b1', userId: 'bob', presence: {} }], 10)
    const before = room.others.get()
    socket.take()
    socket.presenceDiff('r', [{ op: 'remove', connectionId: 'b1', userId: 'bob' }], 12)
    socket.presenceDiff('r', [{ op: 'set', connectionId: 'c1', userId: 'cy', presence: {} }], 13)
    expect(room.others.get()).toBe(before)
    expect(socket.take()).toEqual([{ type: 'presenceResync', handle: socket.handleOf('r') }])
    socket.presenceSnapshot('r', [{ connectionId: 'c1', userId: 'cy', presence: {} }], 13)
    expect(room.others.get().map((peer) => peer.userId)).toEqual(['cy'])
    socket.presenceDiff('r', [{ op: 'set', connectionId: 'd1', userId: 'dee', presence: {} }], 14)
    expect(room.others.get().map((peer) => peer.userId)).toEqual(['cy', 'dee'])
  })

  it('keeps others identity-stable when a frame changes nothing for them', async () => {
    const { socket, room } = await joined()
    socket.presenceSnapshot('r', [{ connectionId: 'b1', userId: 'bob', presence: { x: 1 } }])
    const before = room.others.get()
    const seen: unknown[] = []
    room.others.listen((value) => seen.push(value))
    socket.presenceDiff('r', [{ op: 'set', connectionId: 'b1', userId: 'bob', presence: { x: 1 } }])
    socket.presenceDiff('r', [
      { op: 'set', connectionId: 'conn-1', userId: 'ada', presence: { name: 'Ada' } },
    ])
    expect(room.others.get()).toBe(before)
    expect(seen).toEqual([])
  })

  it('selectOthers on a room only fires when the slice changes', async () => {
    const { socket, room } = await joined()
    socket.presenceSnapshot('r', [
      { connectionId: 'b1', userId: 'bob', presence: { name: 'Bob', x: 0 } },
    ])
    const names = selectOthers(room, (others) => others.map((peer) => peer.presence.name))
    const seen: unknown[] = []
    const off = names.subscribe((value) => seen.push(value))
    for (let x = 1; x < 5; x++) {
      socket.presenceDiff('r', [
        { op: 'set', connectionId: 'b1', userId: 'bob', presence: { name: 'Bob', x } },
      ])
    }
    socket.presenceDiff('r', [
      { op: 'set', connectionId: 'c1', userId: 'cy', presence: { name: 'Cy' } },
    ])
    expect(seen).toEqual([['Bob'], ['Bob', 'Cy']])
    off()
  })

  it('updatePresence merges, updates self at once and sends at most 21 frames for 60 Hz over 1 s, ending with the last value', async () => {
    const { socket, room } = await joined({ name: 'Ada', cursor: null })
    socket.presenceSnapshot('r', [
      { connectionId: 'conn-1', userId: 'ada', presence: { name: 'Ada', cursor: null } },
    ])
    socket.take()
    let last = 0
    for (let i = 0; i <= 60; i++) {
      last = i
      room.updatePresence({ cursor: { x: i, y: i } })
      expect(room.self.get().presence).toEqual({ name: 'Ada', cursor: { x: i, y: i } })
      if (i < 60) await vi.advanceTimersByTimeAsync(1000 / 60)
    }
    await vi.advanceTimersByTimeAsync(100)
    const sent = socket.take('presence')
    expect(sent.length).toBeLessThanOrEqual(21)
    expect(sent.length).toBeGreaterThanOrEqual(19)
    expect(sent.at(-1)).toEqual({
      type: 'presence',
      handle: socket.handleOf('r'),
      presence: { name: 'Ada', cursor: { x: last, y: last } },
    })
    // Whole object each time, and an undefined key removes it.
    room.updatePresence({ cursor: undefined })
    expect(room.self.get().presence).toEqual({ name: 'Ada' })
  })

  it('honours presenceThrottleMs (e.g. 33 ms)', async () => {
    const { socket, room } = await joined({}, { presenceThrottleMs: 33 })
    socket.presenceSnapshot('r', [])
    socket.take()
    room.updatePresence({ x: 1 })
    room.updatePresence({ x: 2 })
    expect(socket.take('presence')).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(32)
    expect(socket.take('presence')).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(1)
    expect(socket.take('presence').map((frame) => frame.presence)).toEqual([{ x: 2 }])
  })

  it('offline keeps only the latest presence and the rejoin announces it, sent once', async () => {
    const { server, socket, room, dropped } = await joined({ name: 'Ada' })
    socket.presenceSnapshot('r', [])
    socket.drop()
    for (let i = 0; i < 50; i++) {
      room.updatePresence({ x: i })
      await vi.advanceTimersByTimeAsync(10)
    }
    expect(dropped).toEqual([])
    const second = await welcomeNext(server, { userId: 'ada', connectionId: 'conn-2' })
    const joins = second.framesOf('join')
    expect(joins.map((join) => join.presence)).toEqual([{ name: 'Ada', x: 49 }])
    second.acceptJoins()
    await vi.advanceTimersByTimeAsync(1000)
    expect(second.framesOf('presence')).toEqual([])
    expect(room.status.get()).toBe('synced')
  })

  it('does not flash others empty during a short reconnect; the new snapshot replaces them at once', async () => {
    const { server, socket, room } = await joined()
    socket.presenceSnapshot('r', [
      { connectionId: 'b1', userId: 'bob', presence: { name: 'Bob' } },
      { connectionId: 'c1', userId: 'cy', presence: { name: 'Cy' } },
    ])
    const before = room.others.get()
    const seen: unknown[] = []
    room.others.listen((value) => seen.push(value))
    socket.drop()
    expect(room.status.get()).toBe('reconnecting')
    await vi.advanceTimersByTimeAsync(125)
    const second = await welcomeNext(server, { userId: 'ada', connectionId: 'conn-2' })
    second.acceptJoins('write', { snapshot: false })
    expect(room.others.get()).toBe(before)
    expect(room.status.get()).toBe('syncing')
    second.presenceSnapshot('r', [
      { connectionId: 'conn-2', userId: 'ada', presence: { name: 'Ada' } },
      { connectionId: 'c1', userId: 'cy', presence: { name: 'Cy' } },
      { connectionId: 'd1', userId: 'dee', presence: { name: 'Dee' } },
    ])
    expect(seen).toHaveLength(1)
    expect(room.others.get().map((peer) => peer.userId)).toEqual(['cy', 'dee'])
    // Cy did not change: same object as before the reconnect.
    expect(room.others.get()[0]).toBe(before[1])
    expect(room.self.get().connections).toEqual([
      { connectionId: 'conn-2', presence: { name: 'Ada' } },
    ])
  })

  it('pagehide sends leave for every room at once; pageshow from the bfcache rejoins', async () => {
    const { server, client, environment, socket, room } = await joined()
    socket.presenceSnapshot('r', [])
    const other = client.join('other')
    socket.acceptJoins()
    socket.take()
    environment.page.dispatch({ type: 'pagehide', persisted: true })
    expect(socket.take()).toEqual([
      { type: 'leave', handle: socket.handleOf('r') },
      { type: 'leave', handle: socket.handleOf('other') },
    ])
    expect(socket.clientClose?.code).toBe(1000)
    await vi.advanceTimersByTimeAsync(60_000)
    expect(server.sockets).toHaveLength(1)
    environment.page.dispatch({ type: 'pageshow', persisted: true })
    await flush()
    const second = server.last.welcome()
    expect(second.framesOf('join').map((join) => join.room)).toEqual(['r', 'other'])
    second.acceptJoins()
    expect([room.status.get(), other.status.get()]).toEqual(['synced', 'synced'])
  })

  it('validates updatePresence and refuses it after leave; leaving clears others and timers', async () => {
    const { client, socket, room } = await joined()
    socket.presenceSnapshot('r', [{ connectionId: 'b1', userId: 'bob', presence: {} }])
    expect(() => room.updatePresence([] as never)).toThrow(/plain JSON object/)
    expect(() => room.updatePresence({ big: 1n } as never)).toThrow(/JSON-serializable/)
    room.updatePresence({ x: 1 })
    room.updatePresence({ x: 2 }) // A trailing send is now pending.
    room.leave()
    expect(room.others.get()).toEqual([])
    expect(() => room.updatePresence({ x: 3 })).toThrow(
      expect.objectContaining({ code: 'room_closed' }),
    )
    client.destroy()
    expect(vi.getTimerCount()).toBe(0)
  })
})
