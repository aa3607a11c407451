import type { PresenceDiffFrame } from '@syncline/protocol'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { type Bus, createInProcessBus, type SynclineServer } from '../index'
import { type Client, connect, joinWithSnapshot, startServer } from './harness'

const tickMs = 40
const servers: SynclineServer[] = []
const clients: Client[] = []

beforeEach(() => {
  vi.useFakeTimers({
    toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'],
  })
})

afterEach(async () => {
  for (const c of clients.splice(0)) c.socket.ws.terminate()
  const closing = Promise.all(servers.splice(0).map((s) => s.close()))
  await vi.advanceTimersByTimeAsync(2_000)
  await closing
  vi.useRealTimers()
})

/** A view of `inner` that can be cut off, like a process whose network died. */
function cuttableBus(inner: Bus) {
  let cut = false
  const bus: Bus = {
    publish: (topic, message) => {
      if (!cut) inner.publish(topic, message)
    },
    subscribe: (topic, listener) =>
      inner.subscribe(topic, (message) => {
        if (!cut) listener(message)
      }),
    close: async () => {},
  }
  return { bus, cut: () => (cut = true) }
}

async function client(server: SynclineServer) {
  const opened = await connect(server, { quiet: ['ping'] })
  clients.push(opened)
  return opened
}

async function roundTrip(c: Client, id = 999) {
  c.send({ type: 'ping', id })
  expect(await c.next()).toEqual({ type: 'pong', id })
}

/** Lets bus microtasks settle: a round trip through each server handles a full turn. */
async function settle(...through: Client[]) {
  for (const c of through) await roundTrip(c, 500)
}

async function tick(...receivers: Client[]): Promise<PresenceDiffFrame[]> {
  vi.advanceTimersByTime(tickMs)
  return Promise.all(receivers.map((r) => r.next('presenceDiff')))
}

describe('presence across servers on one bus', () => {
  it('join, update and leave on server A are seen on server B, and vice versa', async () => {
    const bus = createInProcessBus()
    const one = await startServer({ bus, presenceTickMs: tickMs })
    const two = await startServer({ bus, presenceTickMs: tickMs })
    servers.push(one, two)
    const a = await client(one)
    const b = await client(two)
    const entryA = { connectionId: a.welcome.connectionId, userId: a.welcome.userId }
    const entryB = { connectionId: b.welcome.connectionId, userId: b.welcome.userId }

    await joinWithSnapshot(a, 1, 'shared', { name: 'Ada' })
    await tick(a)
    // b's server opens the room and asks the others; a's server answers with Ada.
    const { snapshot } = await joinWithSnapshot(b, 7, 'shared', { name: 'Bob' })
    expect(snapshot.entries).toContainEqual({ ...entryB, presence: { name: 'Bob' } })
    await settle(a, b)
    const [toA, toB] = await tick(a, b)
    expect(toA?.changes).toEqual([{ op: 'set', ...entryB, presence: { name: 'Bob' } }])
    const seenByB = [...snapshot.entries, ...(toB?.changes ?? [])]
    expect(seenByB).toContainEqual(
      expect.objectContaining({ ...entryA, presence: { name: 'Ada' } }),
    )

    a.send({ type: 'presence', handle: 1, presence: { name: 'Ada', typing: true } })
    await settle(a, b)
    const [ownEcho, remote] = await tick(a, b)
    expect(ownEcho?.changes).toEqual([
      { op: 'set', ...entryA, presence: { name: 'Ada', typing: true } },
    ])
    expect(remote).toMatchObject({
      handle: 7,
      seq: (toB?.seq ?? 0) + 1,
      changes: [{ op: 'set', ...entryA, presence: { name: 'Ada', typing: true } }],
    })

    a.send({ type: 'leave', handle: 1 })
    await settle(a, b)
    const [removed] = await tick(b)
    expect(removed?.changes).toEqual([{ op: 'remove', ...entryA }])
    expect(one.stats().rooms).toBe(0)
  })

  it('presence of a server that stops refreshing expires after presenceTimeoutMs', async () => {
    const inner = createInProcessBus()
    const dying = cuttableBus(inner)
    const timing = { presenceTickMs: tickMs, presenceTimeoutMs: 3_000, pingIntervalMs: 1_000 }
    const one = await startServer({ ...timing, bus: dying.bus })
    const two = await startServer({ ...timing, bus: inner })
    servers.push(one, two)
    const a = await client(one)
    const b = await client(two)
    await joinWithSnapshot(a, 1, 'shared')
    await joinWithSnapshot(b, 1, 'shared')
    await settle(a, b)
    await tick(a, b)
    // Refreshes keep Ada alive on server two while server one is reachable.
    for (let t = 0; t < 4; t++) {
      vi.advanceTimersByTime(1_000)
      await settle(a, b)
    }
    vi.advanceTimersByTime(tickMs)
    await roundTrip(b, 1) // no diff: Ada was not expired
    dying.cut()
    for (let t = 0; t < 3; t++) {
      vi.advanceTimersByTime(1_000)
      await settle(a, b)
    }
    vi.advanceTimersByTime(1_000)
    const [expired] = await tick(b)
    expect(expired?.changes).toEqual([
      { op: 'remove', connectionId: a.welcome.connectionId, userId: a.welcome.userId },
    ])
  })
})
