// Presence between real clients: who is here, what they show, and leaving — explicitly, by
// silence (a network that dies without a close frame), and not at all during a quick reconnect.
import type { AuthenticateRequest } from '@syncline/server'
import { createTcpProxy, recordValues, waitForValue } from '@syncline/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import type { SynclineClient } from '../../client'
import type { Peer } from '../../presence'
import type { Room } from '../../room'
import { connected, createLive, othersWhere, synced } from './setup'

const live = createLive()
afterEach(() => live.cleanup())

/** The token is the userId: enough to give each client (or tab) a known identity. */
const authenticate = ({ token }: AuthenticateRequest) => (token ? { userId: token } : null)

type Who = { name: string; cursor?: { x: number; y: number } | null; step?: number }

function userIds(others: readonly Peer<Who>[]): string {
  return others
    .map((peer) => peer.userId)
    .sort()
    .join()
}

/** Waits until `room.others` is exactly these users (any order). */
function seesUsers(room: Room<Who>, ids: string[], timeoutMs = 5_000) {
  const expected = [...ids].sort().join()
  return othersWhere(
    room,
    (others) => userIds(others) === expected,
    `others = ${expected}`,
    timeoutMs,
  )
}

function join(client: SynclineClient, name: string, presence: Who): Room<Who> {
  return client.join<Who>(name, { presence })
}

describe('presence with three clients', () => {
  it('shows joins, presence updates and leaves to the others, one entry per user', async () => {
    const server = await live.startServer({ authenticate })
    const clients = ['ada', 'bob', 'cy'].map((id) => live.client(server, { auth: () => id }))
    const [ada, bob, cy] = clients as [SynclineClient, SynclineClient, SynclineClient]
    const adaRoom = join(ada, 'board', { name: 'Ada', cursor: null })
    await synced(adaRoom)
    expect(adaRoom.others.get()).toEqual([])

    const bobRoom = join(bob, 'board', { name: 'Bob', cursor: null })
    await seesUsers(adaRoom, ['bob'])
    const cyRoom = join(cy, 'board', { name: 'Cy', cursor: null })
    await Promise.all([
      seesUsers(adaRoom, ['bob', 'cy']),
      seesUsers(bobRoom, ['ada', 'cy']),
      seesUsers(cyRoom, ['ada', 'bob']),
    ])
    const cyConnection = cy.connectionId.get()
    expect(adaRoom.others.get()).toEqual([
      {
        userId: 'bob',
        presence: { name: 'Bob', cursor: null },
        connections: [
          { connectionId: bob.connectionId.get(), presence: { name: 'Bob', cursor: null } },
        ],
      },
      {
        userId: 'cy',
        presence: { name: 'Cy', cursor: null },
        connections: [{ connectionId: cyConnection, presence: { name: 'Cy', cursor: null } }],
      },
    ])
    expect(adaRoom.self.get()).toMatchObject({
      userId: 'ada',
      presence: { name: 'Ada', cursor: null },
    })

    adaRoom.updatePresence({ cursor: { x: 10, y: 20 } })
    expect(adaRoom.self.get().presence).toEqual({ name: 'Ada', cursor: { x: 10, y: 20 } })
    const moved = (others: readonly Peer<Who>[]) =>
      others.find((peer) => peer.userId === 'ada')?.presence.cursor?.x === 10
    await Promise.all([
      othersWhere(bobRoom, moved, 'Ada moved at Bob'),
      othersWhere(cyRoom, moved, 'Ada moved at Cy'),
    ])
    expect(bobRoom.others.get().find((peer) => peer.userId === 'ada')).toEqual({
      userId: 'ada',
      presence: { name: 'Ada', cursor: { x: 10, y: 20 } },
      connections: [
        {
          connectionId: ada.connectionId.get(),
          presence: { name: 'Ada', cursor: { x: 10, y: 20 } },
        },
      ],
    })

    // The last of several quick updates always arrives (throttle with a trailing edge).
    for (let x = 11; x <= 20; x++) adaRoom.updatePresence({ cursor: { x, y: 0 } })
    await othersWhere(
      cyRoom,
      (others) => others.find((peer) => peer.userId === 'ada')?.presence.cursor?.x === 20,
      'the last cursor at Cy',
    )

    bobRoom.leave()
    expect(bobRoom.status.get()).toBe('left')
    await Promise.all([seesUsers(adaRoom, ['cy']), seesUsers(cyRoom, ['ada'])])
  })
})

describe('a connection that goes silent without a close frame', () => {
  const presenceTimeoutMs = 1_500
  const pingIntervalMs = 500

  it('is removed from the others after presenceTimeoutMs, not before, within one more ping interval', async () => {
    const server = await live.startServer({ authenticate, presenceTimeoutMs, pingIntervalMs })
    const proxy = await createTcpProxy(server.port)
    live.defer(() => proxy.close())
    const observer = live.client(server, { auth: () => 'observer' })
    const victim = live.client(proxy.port, { auth: () => 'victim' })
    const observerRoom = join(observer, 'board', { name: 'Observer' })
    const victimRoom = join(victim, 'board', { name: 'Victim', step: 0 })
    await Promise.all([synced(observerRoom), synced(victimRoom)])
    await seesUsers(observerRoom, ['victim'])

    // A frame the server must see just before the network dies: the silence starts at `sentAt`
    // at the latest, so the server may not drop the victim before sentAt + presenceTimeoutMs.
    const sentAt = Date.now()
    victimRoom.updatePresence({ step: 1 })
    await othersWhere(observerRoom, (others) => others[0]?.presence.step === 1, 'step 1')
    const connection = proxy.connections[0]
    expect(proxy.connections).toHaveLength(1)
    connection?.blackhole()
    const holeAt = Date.now()

    await seesUsers(observerRoom, [], presenceTimeoutMs + pingIntervalMs + 2_000)
    const goneAt = Date.now()
    expect(goneAt - sentAt).toBeGreaterThanOrEqual(presenceTimeoutMs)
    expect(goneAt - holeAt).toBeLessThanOrEqual(presenceTimeoutMs + pingIntervalMs)
    // The observer itself was never disturbed.
    expect(observer.status.get()).toBe('connected')
    expect(observerRoom.status.get()).toBe('synced')
  })
})

describe('one user in two tabs', () => {
  it('is one entry with two connections for a third client, and is never among its own others', async () => {
    const server = await live.startServer({ authenticate })
    const tab1 = live.client(server, { auth: () => 'ada' })
    const tab2 = live.client(server, { auth: () => 'ada' })
    const bob = live.client(server, { auth: () => 'bob' })
    const tab1Room = join(tab1, 'board', { name: 'Ada (tab 1)' })
    const tab2Room = join(tab2, 'board', { name: 'Ada (tab 2)' })
    const bobRoom = join(bob, 'board', { name: 'Bob' })
    await othersWhere(
      bobRoom,
      (others) => others.length === 1 && others[0]?.connections.length === 2,
      'one Ada with two connections',
    )
    const [ada] = bobRoom.others.get()
    expect(ada?.userId).toBe('ada')
    expect(ada?.connections.map((c) => c.connectionId).sort()).toEqual(
      [tab1.connectionId.get(), tab2.connectionId.get()].sort(),
    )
    expect(ada?.connections.map((c) => c.presence.name).sort()).toEqual([
      'Ada (tab 1)',
      'Ada (tab 2)',
    ])

    // The entry shows the presence of the tab updated most recently.
    tab2Room.updatePresence({ step: 2 })
    await othersWhere(bobRoom, (others) => others[0]?.presence.step === 2, 'tab 2 speaks for Ada')
    expect(bobRoom.others.get()[0]?.presence).toEqual({ name: 'Ada (tab 2)', step: 2 })

    // Each tab sees only Bob; its twin is in `self.connections`.
    await seesUsers(tab1Room, ['bob'])
    await seesUsers(tab2Room, ['bob'])
    await waitForValue(tab1Room.self, (self) => self.connections.length === 2, {
      label: 'both tabs in self',
    })

    // Closing one tab leaves the user there with one connection.
    tab2.destroy()
    await othersWhere(
      bobRoom,
      (others) => others.length === 1 && others[0]?.connections.length === 1,
      'Ada with one connection',
    )
    expect(bobRoom.others.get()[0]?.connections[0]?.connectionId).toBe(tab1.connectionId.get())
    expect(bobRoom.others.get()[0]?.presence.name).toBe('Ada (tab 1)')
  })
})

describe('a quick reconnect', () => {
  it('causes no leave at the observers: the user never disappears from others', async () => {
    const server = await live.startServer({ authenticate, presenceGraceMs: 5_000 })
    const proxy = await createTcpProxy(server.port)
    live.defer(() => proxy.close())
    const observer = live.client(server, { auth: () => 'observer' })
    const mover = live.client(proxy.port, { auth: () => 'mover' })
    const observerRoom = join(observer, 'board', { name: 'Observer' })
    const moverRoom = join(mover, 'board', { name: 'Mover', step: 0 })
    await Promise.all([synced(observerRoom), synced(moverRoom)])
    await seesUsers(observerRoom, ['mover'])
    const connectionId = mover.connectionId.get()

    const seen = recordValues(observerRoom.others)
    proxy.connections[0]?.drop()
    await waitForValue(mover.status, (status) => status !== 'connected', { label: 'mover dropped' })
    await connected(mover)
    await synced(moverRoom)
    expect(proxy.connections).toHaveLength(2)
    // The server gave the same connection back (hello.resume within presenceGraceMs).
    expect(mover.connectionId.get()).toBe(connectionId)

    // A change after the rejoin proves the observer has seen everything up to here.
    moverRoom.updatePresence({ step: 1 })
    await othersWhere(observerRoom, (others) => others[0]?.presence.step === 1, 'step 1')
    seen.stop()
    expect(seen.values.length).toBeGreaterThanOrEqual(2)
    for (const others of seen.values) expect(userIds(others)).toBe('mover')
    // And the mover's own view did not flash empty either.
    expect(moverRoom.others.get().map((peer) => peer.userId)).toEqual(['observer'])
  })
})

describe('an explicit leave', () => {
  // Long enough that a removal by timeout could never be mistaken for the leave.
  const presenceTimeoutMs = 10_000

  it('on room.leave() is seen by the others at once', async () => {
    const server = await live.startServer({ authenticate, presenceTimeoutMs })
    const observer = live.client(server, { auth: () => 'observer' })
    const leaver = live.client(server, { auth: () => 'leaver' })
    const observerRoom = join(observer, 'board', { name: 'Observer' })
    const leaverRoom = join(leaver, 'board', { name: 'Leaver' })
    const other = join(leaver, 'elsewhere', { name: 'Leaver' })
    await Promise.all([synced(leaverRoom), synced(other)])
    await seesUsers(observerRoom, ['leaver'])

    const leftAt = Date.now()
    leaverRoom.leave()
    await seesUsers(observerRoom, [], 2_000)
    expect(Date.now() - leftAt).toBeLessThan(1_000)
    // Leaving one room keeps the connection and the other room.
    expect(leaver.status.get()).toBe('connected')
    expect(other.status.get()).toBe('synced')
  })

  it('on client.destroy() is seen by the others at once', async () => {
    const server = await live.startServer({ authenticate, presenceTimeoutMs })
    const observer = live.client(server, { auth: () => 'observer' })
    const leaver = live.client(server, { auth: () => 'leaver' })
    const observerRoom = join(observer, 'board', { name: 'Observer' })
    join(leaver, 'board', { name: 'Leaver' })
    await seesUsers(observerRoom, ['leaver'])

    const leftAt = Date.now()
    leaver.destroy()
    expect(leaver.status.get()).toBe('closed')
    await seesUsers(observerRoom, [], 2_000)
    expect(Date.now() - leftAt).toBeLessThan(1_000)
  })
})
