// Authentication, Origin checks and room permissions, end to end.
import type { AuthenticateRequest } from '@syncline/server'
import {
  openTestSocket,
  recordEvents,
  recordingWebSocket,
  UpgradeRefusedError,
  waitForEqual,
} from '@syncline/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import type { ClientStatus } from '../../connection'
import type { SynclineError } from '../../errors'
import { connected, createLive, othersWhere, synced } from './setup'

const live = createLive()
afterEach(() => live.cleanup())

/** Accepts `token:<userId>`; refuses anything else with the reason the client must show. */
function tokenAuth({ token }: AuthenticateRequest) {
  if (token?.startsWith('token:')) return { userId: token.slice('token:'.length) }
  throw new Error('token expired')
}

describe('a token the server refuses', () => {
  it('ends in failed with code 4401 and the server reason after exactly one fresh token', async () => {
    const server = await live.startServer({ authenticate: tokenAuth })
    let calls = 0
    const client = live.client(server, {
      auth: () => {
        calls++
        return `bad-${calls}`
      },
    })
    const statuses = recordEvents(client, 'status')
    await waitForEqual(client.status, 'failed', { label: 'status "failed"' })
    expect(client.failure.get()).toEqual({ code: 4401, reason: 'token expired' })
    expect(calls).toBe(2)
    expect(statuses.calls.map(([status]) => status)).not.toContain('connected')
    // The status event carries the failure too.
    expect(statuses.calls.at(-1)).toEqual(['failed', { code: 4401, reason: 'token expired' }])
  })

  it('is replaced by the fresh token from the second auth call, which connects', async () => {
    const server = await live.startServer({ authenticate: tokenAuth })
    const tokens = ['expired', 'token:ada']
    let calls = 0
    const client = live.client(server, { auth: () => tokens[calls++] ?? 'token:ada' })
    await connected(client)
    expect(calls).toBe(2)
    expect(client.userId.get()).toBe('ada')
    expect(client.failure.get()).toBeNull()
  })
})

describe('the Origin allow-list', () => {
  const allowedOrigins = ['https://app.example.com']

  it('answers a raw upgrade from another origin with HTTP 403, and lets the listed one in', async () => {
    const server = await live.startServer({ allowedOrigins })
    const refused = openTestSocket(live.url(server), { origin: 'https://evil.example' })
    await expect(refused).rejects.toBeInstanceOf(UpgradeRefusedError)
    await expect(refused).rejects.toMatchObject({ status: 403 })
    const allowed = await openTestSocket(live.url(server), { origin: 'https://app.example.com' })
    await allowed.close()
  })

  it('keeps a client from another origin from ever connecting, and it reports the errors', async () => {
    const server = await live.startServer({ allowedOrigins })
    const sockets = recordingWebSocket({ origin: 'https://evil.example' })
    const client = live.client(server, { WebSocket: sockets.WebSocket })
    const statuses: ClientStatus[] = []
    client.on('status', (status) => statuses.push(status))
    const errors = recordEvents<'error', [SynclineError]>(client, 'error')
    await errors.waitForCount(2, { label: 'an error per refused attempt' })
    expect(sockets.sockets.length).toBeGreaterThanOrEqual(2)
    const refusals = sockets.sockets.filter((socket) => socket.close !== undefined)
    expect(refusals.length).toBeGreaterThanOrEqual(2)
    for (const socket of refusals) expect(socket.refusedWith).toBe(403)
    for (const [error] of errors.calls) {
      expect(error.code).toBe('connection_failed')
      expect(error.message).toMatch(/403/)
    }
    expect(statuses).not.toContain('connected')
    // Refusals at the upgrade are retried (the cause may be a deploy), never silently.
    expect(['connecting', 'reconnecting']).toContain(client.status.get())
    expect(client.failure.get()).toBeNull()
  })
})

describe('credentials on the HTTP request', () => {
  it('answers `Authorization: Bearer bad` from a non-browser client with HTTP 401', async () => {
    const server = await live.startServer({ authenticate: tokenAuth })
    const refused = openTestSocket(live.url(server), { headers: { Authorization: 'Bearer bad' } })
    await expect(refused).rejects.toMatchObject({ name: 'UpgradeRefusedError', status: 401 })

    // The same header with a good token authenticates the connection at the upgrade.
    const sockets = recordingWebSocket({ headers: { Authorization: 'Bearer token:bot' } })
    const client = live.client(server, { WebSocket: sockets.WebSocket })
    await connected(client)
    expect(client.userId.get()).toBe('bot')
  })
})

describe('room permissions', () => {
  it('deny one room with a reason while the same client keeps using its other room', async () => {
    const server = await live.startServer({
      authenticate: ({ token }) => ({
        userId: token ?? 'anonymous',
        rooms: (room) => (room === 'secret' ? false : 'write'),
      }),
    })
    const ada = live.client(server, { auth: () => 'ada' })
    const bob = live.client(server, { auth: () => 'bob' })
    const lobby = ada.join('lobby')
    const secret = ada.join('secret')
    const bobLobby = bob.join('lobby')
    await waitForEqual(secret.status, 'denied', { label: 'secret denied' })
    expect(secret.error.get()).toEqual({
      code: 'forbidden',
      reason: 'not allowed to join room "secret"',
    })
    expect(() => secret.broadcast('x')).toThrow(/denied/)

    await Promise.all([synced(lobby), synced(bobLobby)])
    expect(ada.status.get()).toBe('connected')
    const atBob = recordEvents(bobLobby, 'event')
    const atAda = recordEvents(lobby, 'event')
    lobby.broadcast('hi', 'from ada')
    bobLobby.broadcast('hi', 'from bob')
    await Promise.all([atBob.waitForCount(1), atAda.waitForCount(1)])
    expect(atBob.calls[0]?.[0]).toMatchObject({ userId: 'ada', payload: 'from ada' })
    expect(atAda.calls[0]?.[0]).toMatchObject({ userId: 'bob', payload: 'from bob' })
    await othersWhere(lobby, (others) => others.map((peer) => peer.userId).join() === 'bob')
  })
})
