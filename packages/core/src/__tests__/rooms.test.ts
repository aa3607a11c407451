import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { SynclineError } from '../errors'
import type { RoomEventMessage } from '../room'
import { flush, setup, welcomeNext } from './harness'

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

describe('joining', () => {
  it('pipelines the join right after hello, before welcome', async () => {
    const { server, client } = setup()
    const room = client.join('board-1', { presence: { name: 'Ada' } })
    expect(room.status.get()).toBe('joining')
    await flush()
    const socket = server.last.accept()
    expect(socket.received.map((frame) => frame.type)).toEqual(['hello', 'join'])
    expect(socket.framesOf('join')[0]).toMatchObject({
      room: 'board-1',
      presence: { name: 'Ada' },
      doc: false,
    })
    socket.welcome().acceptJoins()
    expect(room.status.get()).toBe('synced')
    expect(room.access.get()).toBe('write')
  })

  it('joins at once when the socket is already open', async () => {
    const { server, client } = setup()
    const socket = await welcomeNext(server)
    socket.take()
    const room = client.join('r')
    expect(socket.take().map((frame) => frame.type)).toEqual(['join'])
    socket.acceptJoins('read')
    expect(room.status.get()).toBe('synced')
    expect(room.access.get()).toBe('read')
  })

  it('is reference-counted: same Room, one join, leave frame only after the last leave', async () => {
    const { server, client } = setup()
    const socket = await welcomeNext(server)
    const a = client.join('r')
    const b = client.join('r')
    expect(b).toBe(a)
    expect(client.getRoom('r')).toBe(a)
    socket.acceptJoins()
    expect(socket.framesOf('join')).toHaveLength(1)
    a.leave()
    expect(socket.framesOf('leave')).toHaveLength(0)
    expect(a.status.get()).toBe('synced')
    b.leave()
    expect(socket.framesOf('leave')).toEqual([{ type: 'leave', handle: socket.handleOf('r') }])
    expect(a.status.get()).toBe('left')
    expect(client.getRoom('r')).toBeUndefined()
    a.leave() // Extra leaves are harmless.
    expect(socket.framesOf('leave')).toHaveLength(1)
    // Joining again creates a fresh room.
    const c = client.join('r')
    expect(c).not.toBe(a)
    expect(c.status.get()).toBe('joining')
  })

  it('a denied room says why; the connection and other rooms carry on', async () => {
    const { server, client, dropped } = setup()
    const socket = await welcomeNext(server)
    const denied = client.join('secret')
    const open = client.join('lobby')
    denied.broadcast('queued', 1)
    socket.deliver(
      {
        type: 'denied',
        handle: socket.handleOf('secret'),
        code: 'forbidden',
        reason: 'not a member',
      },
      { type: 'joined', handle: socket.handleOf('lobby'), access: 'write' },
      { type: 'presenceSnapshot', handle: socket.handleOf('lobby'), seq: 1, entries: [] },
    )
    expect(denied.status.get()).toBe('denied')
    expect(denied.error.get()).toEqual({ code: 'forbidden', reason: 'not a member' })
    expect(open.status.get()).toBe('synced')
    expect(client.status.get()).toBe('connected')
    expect(dropped).toEqual([
      { room: 'secret', kind: 'broadcast', event: 'queued', payload: 1, reason: 'room_closed' },
    ])
    expect(() => denied.broadcast('x', 1)).toThrow(/denied/)
    // No leave frame for a membership the server never granted.
    denied.leave()
    expect(socket.framesOf('leave')).toHaveLength(0)
  })
})

describe('broadcasts', () => {
  it('sends broadcasts on the room handle and delivers events from others', async () => {
    const { server, client } = setup()
    const socket = await welcomeNext(server)
    const room = client.join('r')
    socket.acceptJoins()
    const received: RoomEventMessage[] = []
    room.on('event', (message) => received.push(message))
    room.broadcast('emoji', { symbol: '🎉' })
    expect(socket.framesOf('broadcast')).toEqual([
      {
        type: 'broadcast',
        handle: socket.handleOf('r'),
        event: 'emoji',
        payload: { symbol: '🎉' },
      },
    ])
    socket.deliver({
      type: 'event',
      handle: socket.handleOf('r'),
      event: 'emoji',
      payload: { symbol: '👋' },
      userId: 'bob',
      connectionId: 'c-9',
    })
    expect(received).toEqual([
      { event: 'emoji', payload: { symbol: '👋' }, userId: 'bob', connectionId: 'c-9' },
    ])
  })

  it('validates the event name and the payload', async () => {
    const { client } = setup()
    const room = client.join('r')
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    for (const [event, payload, message] of [
      ['', 1, /non-empty string/],
      [42, 1, /non-empty string/],
      ['e', 1n, /JSON-serializable/],
      ['e', cyclic, /JSON-serializable/],
      ['e', () => 1, /JSON-serializable/],
    ] as const) {
      const error = (() => {
        try {
          room.broadcast(event as string, payload)
        } catch (caught) {
          return caught
        }
      })()
      expect(error).toBeInstanceOf(SynclineError)
      expect((error as SynclineError).code).toBe('invalid_argument')
      expect((error as SynclineError).message).toMatch(message)
    }
  })

  it("refuses payloads above the server's maxPayloadBytes instead of getting the socket closed", async () => {
    const { server, client } = setup()
    const socket = await welcomeNext(server, { maxPayloadBytes: 1000 })
    const room = client.join('r')
    socket.acceptJoins()
    room.broadcast('ok', 'x'.repeat(900))
    expect(() => room.broadcast('big', 'x'.repeat(1000))).toThrow(
      expect.objectContaining({
        code: 'payload_too_large',
        message: expect.stringMatching(/1000/),
      }),
    )
    expect(socket.framesOf('broadcast').map((frame) => frame.event)).toEqual(['ok'])
    expect(socket.isOpen).toBe(true)
  })

  it('queues traffic until the room is joined, then sends it once, in order', async () => {
    const { server, client } = setup()
    const room = client.join('r')
    room.broadcast('a', 1)
    await flush()
    const socket = server.last
    socket.welcome()
    room.broadcast('b', 2)
    // Join is out, not yet answered: still queued.
    expect(socket.framesOf('broadcast')).toHaveLength(0)
    socket.acceptJoins()
    room.broadcast('c', 3)
    expect(socket.framesOf('broadcast').map((frame) => [frame.event, frame.handle])).toEqual([
      ['a', socket.handleOf('r')],
      ['b', socket.handleOf('r')],
      ['c', socket.handleOf('r')],
    ])
  })

  it('after a reconnect rejoins every room with new handles and flushes queued traffic after joined', async () => {
    const { server, client } = setup()
    const first = await welcomeNext(server)
    const a = client.join('a')
    const b = client.join('b')
    first.acceptJoins()
    a.broadcast('before', 0)
    first.drop()
    expect(a.status.get()).toBe('reconnecting')
    expect(b.status.get()).toBe('reconnecting')
    a.broadcast('offline-1', 1)
    b.broadcast('offline-2', 2)
    a.broadcast('offline-3', 3)
    await vi.advanceTimersByTimeAsync(125)
    const second = server.last.accept()
    // Rejoined without user code; nothing flushed before joined.
    expect(second.take().map((frame) => frame.type)).toEqual(['hello', 'join', 'join'])
    const oldHandles = first.framesOf('join').map((frame) => frame.handle)
    const newHandles = second.framesOf('join').map((frame) => frame.handle)
    expect(newHandles.some((handle) => oldHandles.includes(handle))).toBe(false)
    second.welcome()
    expect(second.take('broadcast')).toHaveLength(0)
    second.acceptJoins()
    expect(a.status.get()).toBe('synced')
    expect(second.take('broadcast').map((frame) => [frame.event, frame.handle])).toEqual([
      ['offline-1', second.handleOf('a')],
      ['offline-3', second.handleOf('a')],
      ['offline-2', second.handleOf('b')],
    ])
    // Nothing sent twice: the pre-drop broadcast went out on the first socket only.
    expect(first.framesOf('broadcast').map((frame) => frame.event)).toEqual(['before'])
    second.drop()
    await vi.advanceTimersByTimeAsync(125)
    server.last.welcome().acceptJoins()
    expect(server.last.framesOf('broadcast')).toHaveLength(0)
  })

  it('ignores late frames for a handle of a room that was left', async () => {
    const { server, client } = setup()
    const socket = await welcomeNext(server)
    const room = client.join('r')
    socket.acceptJoins()
    const handle = socket.handleOf('r')
    const again = client.join('r')
    room.leave()
    again.leave()
    const fresh = client.join('r')
    const received: unknown[] = []
    fresh.on('event', (event) => received.push(event))
    socket.deliver({
      type: 'event',
      handle,
      event: 'old',
      payload: 1,
      userId: 'u',
      connectionId: 'c',
    })
    expect(received).toEqual([])
  })
})

describe('offline queue', () => {
  it('drops the oldest messages beyond maxMessages and reports every one', async () => {
    const { server, client, dropped } = setup({ offlineQueue: { maxMessages: 3 } })
    const room = client.join('r')
    for (let i = 1; i <= 5; i++) room.broadcast('n', i)
    expect(dropped.map((info) => [info.payload, info.reason])).toEqual([
      [1, 'overflow'],
      [2, 'overflow'],
    ])
    ;(await welcomeNext(server)).acceptJoins()
    expect(server.last.framesOf('broadcast').map((frame) => frame.payload)).toEqual([3, 4, 5])
  })

  it('bounds queued bytes', async () => {
    const { client, dropped } = setup({ offlineQueue: { maxBytes: 300 } })
    const room = client.join('r')
    room.broadcast('n', 'x'.repeat(100))
    room.broadcast('n', 'y'.repeat(100))
    room.broadcast('n', 'z'.repeat(100))
    expect(dropped.map((info) => (info.payload as string)[0])).toEqual(['x'])
  })

  it('leaving a room drops its queued traffic and says so', async () => {
    const { client, dropped } = setup()
    const room = client.join('r')
    room.broadcast('n', 1)
    room.leave()
    expect(dropped).toEqual([
      { room: 'r', kind: 'broadcast', event: 'n', payload: 1, reason: 'room_closed' },
    ])
    expect(() => room.broadcast('n', 2)).toThrow(expect.objectContaining({ code: 'room_closed' }))
  })

  it('a room left while disconnected is not rejoined and sends no leave', async () => {
    const { server, client } = setup()
    const first = await welcomeNext(server)
    const room = client.join('r')
    first.acceptJoins()
    first.drop()
    room.leave()
    await vi.advanceTimersByTimeAsync(125)
    const second = server.last.welcome()
    expect(second.framesOf('join')).toHaveLength(0)
    expect(second.framesOf('leave')).toHaveLength(0)
  })
})

describe('destroy', () => {
  it('leaves every room, then closes with 1000, leaving nothing behind', async () => {
    const { server, client, environment } = setup()
    const socket = await welcomeNext(server)
    const a = client.join('a')
    const b = client.join('b')
    socket.acceptJoins()
    socket.take()
    client.destroy()
    expect(socket.take()).toEqual([
      { type: 'leave', handle: socket.handleOf('a') },
      { type: 'leave', handle: socket.handleOf('b') },
    ])
    expect(socket.clientClose?.code).toBe(1000)
    expect([a.status.get(), b.status.get()]).toEqual(['left', 'left'])
    expect(vi.getTimerCount()).toBe(0)
    expect(environment.page.hasListeners()).toBe(false)
  })
})
