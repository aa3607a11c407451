import { CloseCode, PROTOCOL_VERSION } from '@syncline/protocol'
import { describe, expect, it } from 'vitest'
import type { AuthenticateRequest, SynclineServer } from '../index'
import { join, useServer } from './harness'

const { start, client } = useServer()
let server: SynclineServer | undefined

describe('hello', () => {
  it('welcomes an anonymous client with ids and the server timing', async () => {
    server = await start({ presenceTimeoutMs: 9_000, maxPayloadBytes: 50_000 })
    const a = await client()
    expect(a.welcome).toMatchObject({
      type: 'welcome',
      version: PROTOCOL_VERSION,
      pingIntervalMs: 3_000,
      maxPayloadBytes: 50_000,
    })
    expect(a.welcome.userId).toMatch(/^anon-[\w-]{12}$/)
    expect(a.welcome.connectionId).toMatch(/^[\w-]{22}$/)
    const b = await client()
    expect(b.welcome.userId).not.toBe(a.welcome.userId)
    expect(b.welcome.connectionId).not.toBe(a.welcome.connectionId)
  })

  it('keeps an anonymous userId across a resume, but not for an unknown or public id', async () => {
    server = await start()
    const first = await client()
    expect(first.welcome.resumeToken).toMatch(/^[\w-]{22}$/)
    expect(first.welcome.resumeToken).not.toBe(first.welcome.connectionId)
    await first.close()
    const resumed = await client({ resume: first.welcome.resumeToken })
    expect(resumed.welcome.userId).toBe(first.welcome.userId)
    const stranger = await client({ resume: 'not-a-resume-token' })
    expect(stranger.welcome.userId).not.toBe(first.welcome.userId)
    // The connectionId is visible to every room member: it must not unlock someone's identity.
    const impostor = await client({ resume: resumed.welcome.connectionId })
    expect(impostor.welcome.userId).not.toBe(first.welcome.userId)
  })

  it('closes with 4426 naming both versions when the protocol version differs', async () => {
    server = await start()
    const a = await client({ hello: false })
    a.send({ type: 'hello', version: PROTOCOL_VERSION + 1 })
    expect(await a.closed).toEqual({
      code: CloseCode.ProtocolVersion,
      reason: `client speaks protocol version ${PROTOCOL_VERSION + 1}, server speaks ${PROTOCOL_VERSION}`,
    })
  })

  it('closes with 4400 when the first frame is not a hello', async () => {
    server = await start()
    const a = await client({ hello: false })
    a.send({ type: 'join', handle: 1, room: 'r', doc: false })
    expect(await a.closed).toEqual({
      code: CloseCode.MalformedFrame,
      reason: 'expected hello as the first frame, got join',
    })
  })

  it('closes with 4400 on a second hello and on a frame only servers send', async () => {
    server = await start()
    const a = await client()
    a.send({ type: 'hello', version: PROTOCOL_VERSION })
    expect(await a.closed).toEqual({ code: CloseCode.MalformedFrame, reason: 'hello sent twice' })
    const b = await client()
    b.send({ type: 'joined', handle: 1, access: 'write' })
    expect(await b.closed).toEqual({
      code: CloseCode.MalformedFrame,
      reason: 'joined frames are sent by servers only',
    })
  })

  it('closes with 4408 when no hello arrives within helloTimeoutMs', async () => {
    server = await start({ helloTimeoutMs: 50 })
    const a = await client({ hello: false })
    expect(await a.closed).toEqual({
      code: CloseCode.Timeout,
      reason: 'no accepted hello within helloTimeoutMs',
    })
  })

  it('answers a client ping with a pong carrying the same id', async () => {
    server = await start()
    const a = await client()
    a.send({ type: 'ping', id: 42 })
    expect(await a.next()).toEqual({ type: 'pong', id: 42 })
  })
})

describe('authenticate at the hello', () => {
  it('passes the hello token, headers and origin and uses the returned userId', async () => {
    const calls: AuthenticateRequest[] = []
    server = await start({
      authenticate: async (request) => {
        calls.push(request)
        return { userId: `user-${request.token}` }
      },
    })
    const a = await client({ token: 'ada', ws: { headers: { origin: 'http://app.test' } } })
    expect(a.welcome.userId).toBe('user-ada')
    expect(calls).toHaveLength(1)
    expect(calls[0]).toMatchObject({ token: 'ada', phase: 'hello', origin: 'http://app.test' })
    expect(calls[0]?.headers.host).toBe(`127.0.0.1:${server.port}`)
  })

  it('closes with 4401 and the error message when authenticate throws', async () => {
    server = await start({
      authenticate: async () => {
        throw new Error('token expired')
      },
    })
    const a = await client({ hello: false })
    a.send({ type: 'hello', version: PROTOCOL_VERSION, token: 'old' })
    expect(await a.closed).toEqual({ code: CloseCode.Unauthorized, reason: 'token expired' })
  })

  it('closes with 4401 when authenticate returns null or a user without userId', async () => {
    let result: unknown = null
    server = await start({ authenticate: async () => result as null })
    const a = await client({ hello: false })
    a.send({ type: 'hello', version: PROTOCOL_VERSION })
    expect(await a.closed).toEqual({
      code: CloseCode.Unauthorized,
      reason: 'authentication failed',
    })
    result = { userId: '' }
    const b = await client({ hello: false })
    b.send({ type: 'hello', version: PROTOCOL_VERSION })
    expect(await b.closed).toEqual({
      code: CloseCode.Unauthorized,
      reason: 'authenticate returned no userId',
    })
  })

  it('truncates a long error message to a valid close reason (123 bytes of UTF-8)', async () => {
    server = await start({
      authenticate: () => {
        throw new Error('é'.repeat(200))
      },
    })
    const a = await client({ hello: false })
    a.send({ type: 'hello', version: PROTOCOL_VERSION })
    const closed = await a.closed
    expect(closed.code).toBe(CloseCode.Unauthorized)
    expect(closed.reason).toBe('é'.repeat(61))
  })

  it('processes pipelined frames in order while authenticate is pending, no data before auth', async () => {
    let release: (() => void) | undefined
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    server = await start({
      authenticate: async (request) => {
        if (request.token === 'slow') await gate
        return { userId: request.token ?? 'nobody' }
      },
    })
    const listener = await client({ token: 'listener' })
    await join(listener, 1, 'room')

    const slow = await client({ hello: false })
    slow.send({ type: 'hello', version: PROTOCOL_VERSION, token: 'slow' })
    slow.send({ type: 'join', handle: 7, room: 'room', doc: false })
    slow.send({ type: 'broadcast', handle: 7, event: 'first', payload: 1 })
    slow.send({ type: 'broadcast', handle: 7, event: 'second', payload: 2 })
    // A ping round trip through the listener shows the server is idle; nothing was relayed yet.
    listener.send({ type: 'ping', id: 1 })
    expect(await listener.next()).toEqual({ type: 'pong', id: 1 })
    release?.()
    expect(await slow.next('welcome')).toMatchObject({ userId: 'slow' })
    expect(await slow.next('joined')).toEqual({ type: 'joined', handle: 7, access: 'write' })
    expect(await listener.next('event')).toMatchObject({ event: 'first', userId: 'slow' })
    expect(await listener.next('event')).toMatchObject({ event: 'second', payload: 2 })
  })
})
