// Bad input and floods close the offending socket only: the other members of the same room keep
// talking over the same server.
import { encodeFrame, PROTOCOL_VERSION } from '@syncline/protocol'
import { recordEvents, recordingWebSocket, waitForEqual } from '@syncline/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import type { SynclineClient } from '../../client'
import type { Room } from '../../room'
import { createLive, othersWhere, rawClient, synced } from './setup'

const live = createLive()
afterEach(() => live.cleanup())

/** Two well-behaved clients in `room`, whose sockets are recorded. */
async function twoMembers(port: number, room = 'board') {
  const sockets = recordingWebSocket()
  const ada = live.client(port, { WebSocket: sockets.WebSocket })
  const bob = live.client(port, { WebSocket: sockets.WebSocket })
  const adaRoom = ada.join(room, { presence: { name: 'Ada' } })
  const bobRoom = bob.join(room, { presence: { name: 'Bob' } })
  await Promise.all([synced(adaRoom), synced(bobRoom)])
  return { sockets, ada, bob, adaRoom, bobRoom }
}

/** Both directions still work, and neither client lost its socket. */
async function stillTalking(
  members: Awaited<ReturnType<typeof twoMembers>>,
  label: string,
): Promise<void> {
  const { sockets, ada, bob, adaRoom, bobRoom } = members
  const atAda = recordEvents(adaRoom, 'event')
  const atBob = recordEvents(bobRoom, 'event')
  adaRoom.broadcast('after', { from: 'ada', label })
  bobRoom.broadcast('after', { from: 'bob', label })
  await Promise.all([atAda.waitForCount(1), atBob.waitForCount(1)])
  expect(atAda.calls[0]?.[0]).toMatchObject({ event: 'after', payload: { from: 'bob', label } })
  expect(atBob.calls[0]?.[0]).toMatchObject({ event: 'after', payload: { from: 'ada', label } })
  const clients: SynclineClient[] = [ada, bob]
  for (const client of clients) expect(client.status.get()).toBe('connected')
  expect(sockets.closes).toEqual([])
  expect(sockets.sockets).toHaveLength(2)
  atAda.stop()
  atBob.stop()
}

/** Waits until `room` sees exactly the users named. */
function seesOnly(room: Room, names: string[]) {
  return othersWhere(
    room,
    (others) =>
      others
        .map((peer) => peer.presence.name)
        .sort()
        .join() === [...names].sort().join(),
    `others = ${names.join()}`,
  )
}

describe('bad frames', () => {
  it('an oversized frame closes only its sender (1009); the room keeps working', async () => {
    const server = await live.startServer({ maxPayloadBytes: 4_096 })
    const members = await twoMembers(server.port)
    const raw = await rawClient(server.port)
    raw.send({ type: 'join', handle: 1, room: 'board', doc: false, presence: { name: 'Raw' } })
    await raw.next('joined')
    await seesOnly(members.adaRoom, ['Bob', 'Raw'])

    raw.socket.send(new Uint8Array(4_097 + 100).fill(7))
    const close = await raw.socket.closed
    expect(close.code).toBe(1009)

    // The sender's presence is gone at once (a close frame, not a silent drop)…
    await seesOnly(members.adaRoom, ['Bob'])
    await seesOnly(members.bobRoom, ['Ada'])
    // …and everyone else carries on.
    await stillTalking(members, 'after oversized')
  })

  it('a malformed frame closes only its sender (4400 with the reason); the room keeps working', async () => {
    const server = await live.startServer({})
    const members = await twoMembers(server.port)
    const raw = await rawClient(server.port)
    raw.send({ type: 'join', handle: 1, room: 'board', doc: false, presence: { name: 'Raw' } })
    await raw.next('joined')
    await seesOnly(members.bobRoom, ['Ada', 'Raw'])

    raw.socket.send(new Uint8Array([0xff, 0xfe, 0x13, 0x37, 0x00, 0x42]))
    const close = await raw.socket.closed
    expect(close.code).toBe(4400)
    expect(close.reason).not.toBe('')

    await seesOnly(members.adaRoom, ['Bob'])
    await stillTalking(members, 'after garbage')

    // A text message is refused the same way, with its own reason.
    const text = await rawClient(server.port)
    text.socket.send('{"type":"broadcast"}')
    expect(await text.socket.closed).toEqual({ code: 4400, reason: 'binary frames only' })
    await stillTalking(members, 'after text')
  })

  it('a truncated valid frame is malformed too, and a second hello is a protocol violation', async () => {
    const server = await live.startServer({})
    const members = await twoMembers(server.port)
    const truncated = await rawClient(server.port)
    const frame = encodeFrame({ type: 'broadcast', handle: 1, event: 'x', payload: { a: 1 } })
    truncated.socket.send(frame.subarray(0, frame.length - 2))
    expect((await truncated.socket.closed).code).toBe(4400)

    const twice = await rawClient(server.port)
    twice.send({ type: 'hello', version: PROTOCOL_VERSION })
    expect(await twice.socket.closed).toEqual({ code: 4400, reason: 'hello sent twice' })
    await stillTalking(members, 'after violations')
  })
})

describe('rate limiting', () => {
  it('closes the flooding socket with 4429 and nobody else; the flooder reconnects', async () => {
    const server = await live.startServer({ rateLimit: { framesPerSecond: 20, burst: 40 } })
    const members = await twoMembers(server.port)
    const floodSockets = recordingWebSocket()
    const flooder = live.client(server, { WebSocket: floodSockets.WebSocket })
    const floodRoom = flooder.join('board', { presence: { name: 'Flood' } })
    await synced(floodRoom)
    await seesOnly(members.adaRoom, ['Bob', 'Flood'])

    const atAda = recordEvents(members.adaRoom, 'event')
    for (let i = 0; i < 200; i++) floodRoom.broadcast('flood', i)
    const close = await floodSockets.nextClose()
    expect(close).toEqual({ code: 4429, reason: 'rate limit exceeded' })
    // The server relayed what the bucket allowed and nothing after the limit.
    expect(atAda.calls.length).toBeLessThanOrEqual(40)

    await stillTalking(members, 'after the flood')
    // 4429 is retried: the flooder comes back, in the room again.
    await waitForEqual(flooder.status, 'connected')
    await synced(floodRoom)
    await seesOnly(members.bobRoom, ['Ada', 'Flood'])
    expect(floodSockets.closes).toHaveLength(1)
  })
})
