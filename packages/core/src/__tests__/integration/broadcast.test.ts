// Broadcasts between real clients through a real server, and surviving a server restart.
import { recordEvents, recordingWebSocket, waitForValue } from '@syncline/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import type { RoomEventMessage } from '../../room'
import { connected, createLive, synced } from './setup'

const live = createLive()
afterEach(() => live.cleanup())

describe('broadcasts between two real clients', () => {
  it('deliver both ways with event name, payload and sender, never echoed to the sender', async () => {
    const server = await live.startServer({})
    const ada = live.client(server, {})
    const bob = live.client(server, {})
    const adaRoom = ada.join('board')
    const bobRoom = bob.join('board')
    await Promise.all([synced(adaRoom), synced(bobRoom)])

    const atAda = recordEvents(adaRoom, 'event')
    const atBob = recordEvents(bobRoom, 'event')

    adaRoom.broadcast('cursor', { x: 1, y: 2, label: 'ünïcødé' })
    const [[fromAda]] = (await atBob.waitForCount(1)) as [[RoomEventMessage]]
    expect(fromAda).toEqual({
      event: 'cursor',
      payload: { x: 1, y: 2, label: 'ünïcødé' },
      userId: ada.userId.get(),
      connectionId: ada.connectionId.get(),
    })

    bobRoom.broadcast('chat', ['hello', 42, null])
    const [[fromBob]] = (await atAda.waitForCount(1)) as [[RoomEventMessage]]
    expect(fromBob).toEqual({
      event: 'chat',
      payload: ['hello', 42, null],
      userId: bob.userId.get(),
      connectionId: bob.connectionId.get(),
    })
    expect(ada.userId.get()).not.toBe(bob.userId.get())

    // A round trip after both sends proves nothing else is in flight: no echo arrived.
    adaRoom.broadcast('marker')
    await atBob.waitForCount(2)
    bobRoom.broadcast('marker')
    await atAda.waitForCount(2)
    expect(atAda.calls.map(([message]) => message.event)).toEqual(['chat', 'marker'])
    expect(atBob.calls.map(([message]) => message.event)).toEqual(['cursor', 'marker'])
  })
})

describe('a server restart on the same port', () => {
  it('is survived: both clients reconnect and rejoin on their own, and offline broadcasts arrive exactly once', async () => {
    const first = await live.startServer({})
    const port = first.port
    const adaSockets = recordingWebSocket()
    const bobSockets = recordingWebSocket()
    // Ada reconnects only once Bob is back in the room: broadcasts are ephemeral, so a message
    // relayed before the receiver rejoined would legitimately reach nobody. Gating the URL (a
    // documented option: a function called before every attempt) makes the order certain.
    let restarted = false
    let releaseAda: () => void = () => {}
    const bobBack = new Promise<void>((resolve) => {
      releaseAda = resolve
    })
    const ada = live.client(port, {
      WebSocket: adaSockets.WebSocket,
      url: async () => {
        if (restarted) await bobBack
        return `ws://127.0.0.1:${port}/`
      },
    })
    const bob = live.client(port, { WebSocket: bobSockets.WebSocket })
    const adaRoom = ada.join('board', { presence: { name: 'Ada' } })
    const bobRoom = bob.join('board', { presence: { name: 'Bob' } })
    await Promise.all([synced(adaRoom), synced(bobRoom)])
    const atBob = recordEvents(bobRoom, 'event')
    const atAda = recordEvents(adaRoom, 'event')
    const adaStatuses = recordEvents(ada, 'status')
    const dropped = recordEvents(ada, 'dropped')

    restarted = true
    await first.close()
    const [adaClose, bobClose] = await Promise.all([
      adaSockets.sockets[0]?.closed,
      bobSockets.sockets[0]?.closed,
    ])
    expect(adaClose?.code).toBe(1001)
    expect(bobClose?.code).toBe(1001)
    await waitForValue(ada.status, (status) => status !== 'connected', {
      label: 'Ada disconnected',
    })
    await waitForValue(bob.status, (status) => status !== 'connected', {
      label: 'Bob disconnected',
    })
    expect(adaRoom.status.get()).toBe('reconnecting')

    // Sent while no server is listening: queued, and delivered once after the rejoin.
    const offline = Array.from({ length: 5 }, (_, i) => ({ n: i }))
    for (const payload of offline) adaRoom.broadcast('offline', payload)

    await live.startServer({ port })

    await synced(bobRoom)
    await connected(bob)
    releaseAda()
    await synced(adaRoom)
    await connected(ada)
    expect(adaStatuses.calls.map(([status]) => status)).not.toContain('failed')
    expect(dropped.calls).toEqual([])

    // A marker sent after the rejoin arrives after the replayed queue (one socket, in order).
    adaRoom.broadcast('marker')
    await atBob.waitUntil((calls) => calls.some(([message]) => message.event === 'marker'), {
      label: 'the marker',
    })
    const received = atBob.calls.map(([message]) => message).filter((m) => m.event === 'offline')
    expect(received.map((message) => message.payload)).toEqual(offline)
    expect(received.every((message) => message.connectionId === ada.connectionId.get())).toBe(true)

    // And the other way, on the new server.
    bobRoom.broadcast('back', { ok: true })
    await atAda.waitForCount(1)
    expect(atAda.calls[0]?.[0]).toMatchObject({ event: 'back', payload: { ok: true } })

    // Presence came back too: each sees the other, once.
    await waitForValue(adaRoom.others, (others) => others.length === 1)
    await waitForValue(bobRoom.others, (others) => others.length === 1)
    expect(adaRoom.others.get().map((peer) => peer.presence)).toEqual([{ name: 'Bob' }])
    expect(bobRoom.others.get().map((peer) => peer.presence)).toEqual([{ name: 'Ada' }])
  })
})
