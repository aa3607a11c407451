import { describe, expect, it } from 'vitest'
import type { AuthenticatedUser, SynclineServer } from '../index'
import { type Client, join, useServer } from './harness'

const { start, client } = useServer()
let server: SynclineServer | undefined

/** A ping round trip: every frame sent before it has been processed by the server. */
async function roundTrip(c: Client, id = 99) {
  c.send({ type: 'ping', id })
  expect(await c.next('pong')).toEqual({ type: 'pong', id })
}

describe('join', () => {
  it('accepts with write access by default', async () => {
    server = await start()
    const a = await client()
    expect(await join(a, 1, 'board-1')).toEqual({ type: 'joined', handle: 1, access: 'write' })
    expect(server.stats().rooms).toBe(1)
  })

  it('denies an empty or over-long room name with invalid_room', async () => {
    server = await start()
    const a = await client()
    a.send({ type: 'join', handle: 1, room: '', doc: false })
    expect(await a.next()).toMatchObject({ type: 'denied', handle: 1, code: 'invalid_room' })
    a.send({ type: 'join', handle: 2, room: 'x'.repeat(257), doc: false })
    expect(await a.next()).toMatchObject({ type: 'denied', handle: 2, code: 'invalid_room' })
    expect(await join(a, 3, 'x'.repeat(256))).toMatchObject({ handle: 3 })
  })

  it('applies rooms(): read, forbidden (socket stays usable), async, and a throwing check', async () => {
    const rooms: AuthenticatedUser['rooms'] = async (room) => {
      if (room === 'boom') throw new Error('db down')
      if (room.startsWith('public:')) return 'read'
      return room.startsWith('mine:') ? 'write' : false
    }
    server = await start({ authenticate: async () => ({ userId: 'ada', rooms }) })
    const a = await client({ token: 't' })
    a.send({ type: 'join', handle: 1, room: 'secret', doc: false })
    expect(await a.next()).toEqual({
      type: 'denied',
      handle: 1,
      code: 'forbidden',
      reason: 'not allowed to join room "secret"',
    })
    a.send({ type: 'join', handle: 2, room: 'boom', doc: false })
    expect(await a.next()).toMatchObject({ type: 'denied', handle: 2, code: 'error' })
    expect(await join(a, 3, 'public:lobby')).toEqual({ type: 'joined', handle: 3, access: 'read' })
    expect(await join(a, 1, 'mine:notes')).toEqual({ type: 'joined', handle: 1, access: 'write' })
  })

  it('refuses a handle that is in use (not fatal) and the same room twice', async () => {
    server = await start()
    const a = await client()
    await join(a, 1, 'one')
    a.send({ type: 'join', handle: 1, room: 'two', doc: false })
    expect(await a.next()).toMatchObject({ type: 'error', handle: 1, code: 'handle_in_use' })
    a.send({ type: 'join', handle: 2, room: 'one', doc: false })
    expect(await a.next()).toMatchObject({ type: 'denied', handle: 2, code: 'already_joined' })
    await roundTrip(a)
  })
})

describe('leave and unknown handles', () => {
  it('leave ends membership; the room is removed after its last member leaves', async () => {
    server = await start()
    const a = await client()
    const b = await client()
    await join(a, 1, 'r')
    await join(b, 5, 'r')
    a.send({ type: 'leave', handle: 1 })
    await roundTrip(a)
    b.send({ type: 'broadcast', handle: 5, event: 'hi', payload: null })
    await roundTrip(b)
    // An event for a would be queued before this pong: a strict round trip proves there is none.
    await roundTrip(a)
    a.send({ type: 'broadcast', handle: 1, event: 'late', payload: null })
    expect(await a.next()).toMatchObject({ type: 'error', handle: 1, code: 'unknown_room' })
    expect(server.stats().rooms).toBe(1)
    b.send({ type: 'leave', handle: 5 })
    await roundTrip(b)
    expect(server.stats()).toMatchObject({ rooms: 0 })
    // The handle is free again.
    expect(await join(a, 1, 'r')).toMatchObject({ handle: 1 })
  })

  it('a frame for an unknown handle gets unknown_room and the socket stays open', async () => {
    server = await start()
    const a = await client()
    a.send({ type: 'leave', handle: 12 })
    expect(await a.next()).toEqual({
      type: 'error',
      handle: 12,
      code: 'unknown_room',
      message: 'no room is joined with handle 12',
    })
    await roundTrip(a)
  })
})

describe('broadcast', () => {
  it('reaches every other member with the sender ids, addressed by each member handle', async () => {
    server = await start()
    const a = await client()
    const b = await client()
    const c = await client()
    const outsider = await client()
    await join(a, 1, 'r')
    await join(b, 2, 'r')
    await join(c, 1, 'r')
    await join(outsider, 1, 'other')
    a.send({ type: 'broadcast', handle: 1, event: 'cursor', payload: { x: 1, y: [2] } })
    const expected = {
      type: 'event',
      event: 'cursor',
      payload: { x: 1, y: [2] },
      userId: a.welcome.userId,
      connectionId: a.welcome.connectionId,
    }
    expect(await b.next()).toEqual({ ...expected, handle: 2 })
    expect(await c.next()).toEqual({ ...expected, handle: 1 })
    // Neither the sender nor a member of another room receives it.
    await roundTrip(a)
    await roundTrip(outsider)
  })

  it('read-only members cannot broadcast', async () => {
    server = await start({
      authenticate: async ({ token }) => ({
        userId: token ?? '',
        rooms: () => (token === 'viewer' ? 'read' : 'write'),
      }),
    })
    const viewer = await client({ token: 'viewer' })
    const editor = await client({ token: 'editor' })
    await join(viewer, 1, 'r')
    await join(editor, 1, 'r')
    viewer.send({ type: 'broadcast', handle: 1, event: 'x', payload: 1 })
    expect(await viewer.next()).toMatchObject({ type: 'error', handle: 1, code: 'read_only' })
    editor.send({ type: 'broadcast', handle: 1, event: 'y', payload: 2 })
    // The viewer's first event is the editor's: its own was dropped.
    expect(await viewer.next()).toMatchObject({ type: 'event', event: 'y', userId: 'editor' })
  })
})
