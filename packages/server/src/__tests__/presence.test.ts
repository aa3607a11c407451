import { CloseCode, decodeFrame, type PresenceDiffFrame, unbatch } from '@syncline/protocol'
import { createTcpProxy, type TcpProxy } from '@syncline/test-utils'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { SynclineServer } from '../index'
import { type Client, type ConnectOptions, connect, joinWithSnapshot, startServer } from './harness'

const tickMs = 40

let server: SynclineServer | undefined
let proxy: TcpProxy | undefined
const clients: Client[] = []

beforeEach(() => {
  // Only timers and Date: sockets, microtasks (the in-process bus) and setImmediate stay real.
  vi.useFakeTimers({
    toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'],
  })
})

afterEach(async () => {
  for (const c of clients.splice(0)) c.socket.ws.terminate()
  await proxy?.close()
  proxy = undefined
  const closing = server?.close()
  await vi.advanceTimersByTimeAsync(2_000)
  await closing
  server = undefined
  vi.useRealTimers()
})

async function client(options: ConnectOptions = {}) {
  if (!server) throw new Error('start a server first')
  const opened = await connect(server, { quiet: ['ping'], ...options })
  clients.push(opened)
  return opened
}

/** Every frame this client sent before has been processed once this resolves. */
async function roundTrip(c: Client, id = 999) {
  c.send({ type: 'ping', id })
  expect(await c.next()).toEqual({ type: 'pong', id })
}

/** Runs the presence tick and returns the next diff of each client. */
async function tick(...receivers: Client[]): Promise<PresenceDiffFrame[]> {
  vi.advanceTimersByTime(tickMs)
  return Promise.all(receivers.map((r) => r.next('presenceDiff')))
}

/** Polls a server-side condition that has no event to await (e.g. a socket close noticed). */
async function eventually(condition: () => boolean) {
  for (let i = 0; i < 1_000 && !condition(); i++) {
    await new Promise((resolve) => setImmediate(resolve))
  }
  expect(condition()).toBe(true)
}

describe('presence snapshot and diffs', () => {
  it('numbers the snapshot and the diffs per room; join, update and leave are seen', async () => {
    server = await startServer({ presenceTickMs: tickMs })
    const a = await client()
    const b = await client()
    const ida = a.welcome.connectionId
    const idb = b.welcome.connectionId
    const ua = a.welcome.userId
    const ub = b.welcome.userId

    const first = await joinWithSnapshot(a, 1, 'room', { name: 'Ada' })
    expect(first.snapshot).toEqual({
      type: 'presenceSnapshot',
      handle: 1,
      seq: 0,
      entries: [{ connectionId: ida, userId: ua, presence: { name: 'Ada' } }],
    })
    expect(await tick(a)).toEqual([
      {
        type: 'presenceDiff',
        handle: 1,
        seq: 1,
        changes: [{ op: 'set', connectionId: ida, userId: ua, presence: { name: 'Ada' } }],
      },
    ])

    const second = await joinWithSnapshot(b, 4, 'room', { name: 'Bob' })
    expect(second.snapshot.seq).toBe(1)
    expect(second.snapshot.entries).toEqual([
      { connectionId: ida, userId: ua, presence: { name: 'Ada' } },
      { connectionId: idb, userId: ub, presence: { name: 'Bob' } },
    ])
    const setBob = { op: 'set', connectionId: idb, userId: ub, presence: { name: 'Bob' } }
    const [toA, toB] = await tick(a, b)
    expect(toA).toEqual({ type: 'presenceDiff', handle: 1, seq: 2, changes: [setBob] })
    expect(toB).toEqual({ type: 'presenceDiff', handle: 4, seq: 2, changes: [setBob] })

    a.send({ type: 'presence', handle: 1, presence: { name: 'Ada', cursor: { x: 3, y: 4 } } })
    await roundTrip(a)
    const setAda = {
      op: 'set',
      connectionId: ida,
      userId: ua,
      presence: { name: 'Ada', cursor: { x: 3, y: 4 } },
    }
    expect(await tick(a, b)).toEqual([
      { type: 'presenceDiff', handle: 1, seq: 3, changes: [setAda] },
      { type: 'presenceDiff', handle: 4, seq: 3, changes: [setAda] },
    ])

    b.send({ type: 'leave', handle: 4 })
    await roundTrip(b)
    expect(await tick(a)).toEqual([
      {
        type: 'presenceDiff',
        handle: 1,
        seq: 4,
        changes: [{ op: 'remove', connectionId: idb, userId: ub }],
      },
    ])
  })

  it('a socket closed with a close frame is removed at once (next tick)', async () => {
    server = await startServer({ presenceTickMs: tickMs })
    const a = await client()
    const b = await client()
    await joinWithSnapshot(a, 1, 'room')
    await joinWithSnapshot(b, 1, 'room')
    await tick(a)
    await b.close()
    await eventually(() => server?.stats().connections === 1)
    const [diff] = await tick(a)
    expect(diff?.changes).toEqual([
      { op: 'remove', connectionId: b.welcome.connectionId, userId: b.welcome.userId },
    ])
  })

  it('presenceResync answers with a fresh snapshot at the current seq', async () => {
    server = await startServer({ presenceTickMs: tickMs })
    const a = await client()
    await joinWithSnapshot(a, 2, 'room', { n: 1 })
    await tick(a)
    a.send({ type: 'presence', handle: 2, presence: { n: 2 } })
    a.send({ type: 'presenceResync', handle: 2 })
    // The snapshot already holds the pending change; diff seq 2 re-applies it harmlessly.
    expect(await a.next()).toEqual({
      type: 'presenceSnapshot',
      handle: 2,
      seq: 1,
      entries: [
        { connectionId: a.welcome.connectionId, userId: a.welcome.userId, presence: { n: 2 } },
      ],
    })
    expect((await tick(a))[0]).toMatchObject({ seq: 2, changes: [{ presence: { n: 2 } }] })
  })
})

describe('coalescing', () => {
  it('60 updates within one tick reach the others as one diff with the last value', async () => {
    server = await startServer({ presenceTickMs: tickMs })
    const a = await client()
    const b = await client()
    await joinWithSnapshot(a, 1, 'room', { x: -1 })
    await joinWithSnapshot(b, 1, 'room')
    await tick(a, b)
    for (let x = 0; x < 60; x++) a.send({ type: 'presence', handle: 1, presence: { x } })
    await roundTrip(a)
    vi.advanceTimersByTime(tickMs)
    const message = await b.socket.next()
    expect(unbatch(decodeFrame(message.data))).toEqual([
      {
        type: 'presenceDiff',
        handle: 1,
        seq: 2,
        changes: [
          {
            op: 'set',
            connectionId: a.welcome.connectionId,
            userId: a.welcome.userId,
            presence: { x: 59 },
          },
        ],
      },
    ])
    // Nothing else followed for b: the next frame is the answer to its ping.
    await roundTrip(b)
  })

  it('all presence frames for one socket in one tick go out as one WebSocket message', async () => {
    server = await startServer({ presenceTickMs: tickMs })
    const a = await client()
    const b = await client()
    await joinWithSnapshot(a, 1, 'one')
    await joinWithSnapshot(a, 2, 'two')
    await joinWithSnapshot(b, 1, 'one')
    await joinWithSnapshot(b, 2, 'two')
    await tick(a, b)
    await a.next('presenceDiff')
    await b.next('presenceDiff')
    a.send({ type: 'presence', handle: 1, presence: { in: 'one' } })
    a.send({ type: 'presence', handle: 2, presence: { in: 'two' } })
    await roundTrip(a)
    vi.advanceTimersByTime(tickMs)
    const frames = unbatch(decodeFrame((await b.socket.next()).data))
    expect(frames.map((f) => f.type === 'presenceDiff' && [f.handle, f.changes.length])).toEqual([
      [1, 1],
      [2, 1],
    ])
  })
})

describe('validation', () => {
  it('refuses invalid presence with invalid_presence; others see nothing; socket stays open', async () => {
    server = await startServer({ presenceTickMs: tickMs, maxPresenceBytes: 64 })
    const a = await client()
    const b = await client()
    await joinWithSnapshot(a, 1, 'room', { ok: true })
    await joinWithSnapshot(b, 1, 'room')
    await tick(a, b)
    for (const presence of [[1, 2], 'text', null, 42, { big: 'x'.repeat(100) }]) {
      a.send({ type: 'presence', handle: 1, presence })
      expect(await a.next()).toMatchObject({ type: 'error', handle: 1, code: 'invalid_presence' })
    }
    vi.advanceTimersByTime(tickMs * 3)
    // A diff for b would arrive before the pong.
    await roundTrip(b)
    a.send({ type: 'join', handle: 2, room: 'other', doc: false, presence: ['no'] })
    expect(await a.next()).toEqual({
      type: 'denied',
      handle: 2,
      code: 'invalid_presence',
      reason: 'presence must be a JSON object',
    })
    await roundTrip(a)
  })
})

describe('departures', () => {
  const timing = { presenceTickMs: tickMs, presenceTimeoutMs: 3_000, pingIntervalMs: 1_000 }

  it('removes a silent connection after presenceTimeoutMs and tells the room', async () => {
    server = await startServer(timing)
    const a = await client()
    const b = await client()
    await joinWithSnapshot(a, 1, 'room')
    await joinWithSnapshot(b, 1, 'room')
    await tick(b)
    for (let t = 0; t < 2; t++) {
      vi.advanceTimersByTime(1_000)
      await roundTrip(b, t) // b stays alive, a says nothing
    }
    vi.advanceTimersByTime(1_000)
    expect(await a.closed).toMatchObject({ code: CloseCode.Timeout })
    const [diff] = await tick(b)
    expect(diff?.changes).toEqual([
      { op: 'remove', connectionId: a.welcome.connectionId, userId: a.welcome.userId },
    ])
  })

  it('an unclean drop resumed within presenceGraceMs causes no remove and no set', async () => {
    server = await startServer({
      ...timing,
      presenceGraceMs: 5_000,
      authenticate: async ({ token }) => ({ userId: token ?? 'nobody' }),
    })
    const a = await client({ token: 'ada' })
    const b = await client({ token: 'bob' })
    await joinWithSnapshot(a, 1, 'room', { name: 'Ada' })
    await joinWithSnapshot(b, 1, 'room')
    await tick(b)
    a.socket.ws.terminate() // no close frame: the server sees 1006
    await eventually(() => server?.stats().departures === 1)
    const again = await client({ token: 'ada', resume: a.welcome.resumeToken })
    expect(again.welcome.connectionId).toBe(a.welcome.connectionId)
    const { snapshot } = await joinWithSnapshot(again, 3, 'room', { name: 'Ada' })
    expect(snapshot.entries).toHaveLength(2)
    // Past the grace period, in steps so both stay alive; at no step does b get a diff.
    for (let t = 0; t < 6; t++) {
      vi.advanceTimersByTime(1_000)
      await roundTrip(again, t)
      await roundTrip(b, t)
    }
    expect(server.stats()).toMatchObject({ departures: 0, connections: 2, rooms: 1 })
  })

  it("a resume displaces the same user's socket the server still thinks is open", async () => {
    server = await startServer({
      ...timing,
      authenticate: async ({ token }) => ({ userId: token ?? 'nobody' }),
    })
    proxy = await createTcpProxy(server.port)
    const a = await client({ token: 'ada', port: proxy.port })
    const b = await client({ token: 'bob' })
    await joinWithSnapshot(a, 1, 'room', { name: 'Ada' })
    await joinWithSnapshot(b, 1, 'room')
    await tick(b)
    await a.next('presenceDiff')
    proxy.blackhole() // the old path is dead, but no FIN reaches the server
    const again = await client({ token: 'ada', resume: a.welcome.resumeToken })
    expect(again.welcome.connectionId).toBe(a.welcome.connectionId)
    await joinWithSnapshot(again, 1, 'room', { name: 'Ada', moved: true })
    const [diff] = await tick(b)
    // One set with the new value, no remove in between.
    expect(diff?.changes).toEqual([
      {
        op: 'set',
        connectionId: a.welcome.connectionId,
        userId: 'ada',
        presence: { name: 'Ada', moved: true },
      },
    ])
    await proxy.connections[0]?.targetClosed
    expect(server.stats()).toMatchObject({ connections: 2 })
  })

  it("a resume with another user's token gets a new connectionId", async () => {
    server = await startServer({
      ...timing,
      authenticate: async ({ token }) => ({ userId: token ?? 'nobody' }),
    })
    const a = await client({ token: 'ada' })
    await a.close()
    await eventually(() => server?.stats().connections === 0)
    const mallory = await client({ token: 'mallory', resume: a.welcome.resumeToken })
    expect(mallory.welcome.connectionId).not.toBe(a.welcome.connectionId)
  })

  it('a resume token is good for one resume only', async () => {
    server = await startServer({
      ...timing,
      authenticate: async ({ token }) => ({ userId: token ?? 'nobody' }),
    })
    const a = await client({ token: 'ada' })
    await joinWithSnapshot(a, 1, 'room', { name: 'Ada' })
    a.socket.ws.terminate()
    await eventually(() => server?.stats().departures === 1)
    const again = await client({ token: 'ada', resume: a.welcome.resumeToken })
    expect(again.welcome.connectionId).toBe(a.welcome.connectionId)
    expect(again.welcome.resumeToken).not.toBe(a.welcome.resumeToken)
    // Without one-time tokens the replay would displace `again` (same user).
    const replay = await client({ token: 'ada', resume: a.welcome.resumeToken })
    expect(replay.welcome.connectionId).not.toBe(a.welcome.connectionId)
    await roundTrip(again)
  })

  it('an unclean drop not resumed is removed when presenceGraceMs ends', async () => {
    server = await startServer({ ...timing, presenceGraceMs: 2_000 })
    const a = await client()
    const b = await client()
    await joinWithSnapshot(a, 1, 'room')
    await joinWithSnapshot(b, 1, 'room')
    await tick(b)
    a.socket.ws.terminate()
    await eventually(() => server?.stats().departures === 1)
    vi.advanceTimersByTime(1_900)
    await roundTrip(b, 1)
    vi.advanceTimersByTime(100)
    const [diff] = await tick(b)
    expect(diff?.changes).toEqual([
      { op: 'remove', connectionId: a.welcome.connectionId, userId: a.welcome.userId },
    ])
  })

  it('the public connectionId cannot be used to take over a connection', async () => {
    server = await startServer(timing)
    const a = await client()
    // Every room member sees connectionIds; only the resume token (sent to a alone) resumes.
    const thief = await client({ resume: a.welcome.connectionId })
    expect(thief.welcome.connectionId).not.toBe(a.welcome.connectionId)
    expect(thief.welcome.userId).not.toBe(a.welcome.userId)
    await roundTrip(a)
  })
})

describe('room lifecycle', () => {
  it('a room is removed after its last member leaves, with no timer left behind', async () => {
    server = await startServer({ presenceTickMs: tickMs })
    const a = await client()
    await joinWithSnapshot(a, 1, 'room', { x: 1 })
    a.send({ type: 'presence', handle: 1, presence: { x: 2 } })
    a.send({ type: 'leave', handle: 1 })
    await roundTrip(a)
    // Only the heartbeat sweep remains: the pending presence tick was cancelled with the room.
    expect(server.stats()).toMatchObject({ rooms: 0, timers: 1, departures: 0 })
  })

  it('a room held only by a dropped connection goes away when the grace ends', async () => {
    server = await startServer({ presenceTickMs: tickMs, presenceGraceMs: 1_000 })
    const a = await client()
    await joinWithSnapshot(a, 1, 'room')
    a.socket.ws.terminate()
    await eventually(() => server?.stats().departures === 1)
    expect(server.stats().rooms).toBe(1)
    vi.advanceTimersByTime(1_000)
    expect(server.stats()).toMatchObject({ rooms: 0, connections: 0, departures: 0, timers: 1 })
  })
})
