// The /yjs/<room> endpoint with a stock y-websocket WebsocketProvider and on the raw protocol:
// one document and presence shared with native clients, auth by ?token=, permissions, bad input.
import { CloseCode, type PresenceEntry } from '@syncline/protocol'
import { openTestSocket, type TestSocket } from '@syncline/test-utils'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { afterEach, describe, expect, it, vi } from 'vitest'
import WebSocket from 'ws'
import * as awarenessProtocol from 'y-protocols/awareness'
import * as syncProtocol from 'y-protocols/sync'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import type { AuthenticatedUser, ServerOptions, SynclineServer } from '../index'
import {
  joinDoc,
  readSync,
  serverState,
  statsReach,
  syncDoc,
  textOf,
  until,
  updateMessage,
} from './docHarness'
import { type Client, type ConnectOptions, closeAll, connect, startServer } from './harness'

let server: SynclineServer | undefined
const clients: Client[] = []
const providers: WebsocketProvider[] = []
const sockets: TestSocket[] = []

afterEach(async () => {
  for (const provider of providers.splice(0)) provider.destroy()
  await Promise.all(sockets.splice(0).map((socket) => socket.close()))
  await closeAll(...clients.splice(0))
  await server?.close()
  server = undefined
  vi.restoreAllMocks()
})

async function start(options: ServerOptions = {}) {
  server = await startServer(options)
  return server
}

async function client(options?: ConnectOptions) {
  if (server === undefined) throw new Error('no server')
  const opened = await connect(server, options)
  clients.push(opened)
  return opened
}

/** A stock y-websocket client, exactly as an application would create one. */
function stock(room: string, params: Record<string, string> = {}) {
  if (server === undefined) throw new Error('no server')
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(`ws://127.0.0.1:${server.port}/yjs`, room, doc, {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    disableBc: true,
    params,
  })
  providers.push(provider)
  return { doc, provider, text: doc.getText('t') }
}

function synced(provider: WebsocketProvider): Promise<void> {
  return until(() => provider.synced, 'the y-websocket provider to sync')
}

function closedWith(provider: WebsocketProvider): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => provider.once('closed', (event) => resolve(event)))
}

/** Presence entries of `room` as `member` sees them (asks for a fresh snapshot). */
async function presenceOf(member: Client, handle: number): Promise<PresenceEntry[]> {
  member.send({ type: 'presenceResync', handle })
  return (await member.next('presenceSnapshot')).entries
}

async function presenceUntil(
  member: Client,
  handle: number,
  predicate: (entries: PresenceEntry[]) => boolean,
): Promise<PresenceEntry[]> {
  for (let i = 0; i < 400; i++) {
    const entries = await presenceOf(member, handle)
    if (predicate(entries)) return entries
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  throw new Error(`presence never matched: ${JSON.stringify(await presenceOf(member, handle))}`)
}

/** Awareness states other than its own, as a stock provider sees them. */
function remoteStates(provider: WebsocketProvider): unknown[] {
  const { awareness } = provider
  return [...awareness.getStates()]
    .filter(([clientID]) => clientID !== awareness.clientID)
    .map(([, state]) => state)
}

describe('/yjs/<room> with a stock y-websocket client', () => {
  it('shares one document with native clients, both ways', async () => {
    await start()
    const native = await client()
    await joinDoc(native, 1, 'shared')
    const nativeDoc = new Y.Doc()
    await syncDoc(native, 1, nativeDoc)
    const before = Y.encodeStateVector(nativeDoc)
    nativeDoc.getText('t').insert(0, 'native')
    const update = Y.encodeStateAsUpdate(nativeDoc, before)
    native.send({ type: 'doc', handle: 1, seq: 1, message: updateMessage(update) })
    await native.next('ack')

    const { provider, text } = stock('shared')
    await synced(provider)
    expect(text.toString()).toBe('native')
    text.insert(6, ' + stock')
    const relayed = await native.next('doc')
    Y.applyUpdate(nativeDoc, readSync(relayed.message).payload)
    expect(nativeDoc.getText('t').toString()).toBe('native + stock')
    expect(textOf(await serverState(native, 1))).toBe('native + stock')
  })

  it('two stock clients edit the same room through the server', async () => {
    await start()
    const one = stock('pair')
    const two = stock('pair')
    await Promise.all([synced(one.provider), synced(two.provider)])
    one.text.insert(0, 'hello')
    await until(() => two.text.toString() === 'hello', 'the edit to reach the second client')
    two.text.insert(5, ' world')
    await until(() => one.text.toString() === 'hello world', 'the reply to reach the first')
  })

  it("maps the stock client's awareness to native presence and native presence to awareness", async () => {
    await start()
    const native = await client()
    native.send({ type: 'join', handle: 3, room: 'aw', doc: false, presence: { name: 'Nat' } })
    await native.next('joined')
    await native.next('presenceSnapshot')

    const { provider } = stock('aw')
    provider.awareness.setLocalState({ name: 'Yuri', cursor: 4 })
    await synced(provider)
    // Native → stock: one awareness client per native connection, with a synthetic clientID.
    await until(() => remoteStates(provider).length === 1, 'the native presence in awareness')
    expect(remoteStates(provider)).toEqual([{ name: 'Nat' }])
    const syntheticId = [...provider.awareness.getStates().keys()].find(
      (id) => id !== provider.awareness.clientID,
    )
    expect(syntheticId).toBeGreaterThanOrEqual(2 ** 32)

    // Stock → native: the awareness state is the presence; the userId is anonymous.
    const entries = await presenceUntil(native, 3, (list) => list.length === 2)
    const yuri = entries.find((entry) => entry.connectionId !== native.welcome.connectionId)
    expect(yuri?.presence).toEqual({ name: 'Yuri', cursor: 4 })
    expect(yuri?.userId).toMatch(/^anon-/)

    // Changes both ways.
    native.send({ type: 'presence', handle: 3, presence: { name: 'Nat', typing: true } })
    await until(
      () =>
        JSON.stringify(remoteStates(provider)) === JSON.stringify([{ name: 'Nat', typing: true }]),
      'the native change in awareness',
    )
    provider.awareness.setLocalStateField('cursor', 9)
    await presenceUntil(native, 3, (list) =>
      list.some((entry) => (entry.presence as { cursor?: number }).cursor === 9),
    )
    // The stock client re-sends what it receives; that must not create ghosts.
    expect((await presenceOf(native, 3)).length).toBe(2)

    // Leaving: the native leave removes its awareness state; the stock disconnect its presence.
    native.send({ type: 'leave', handle: 3 })
    await until(() => remoteStates(provider).length === 0, 'the native leave in awareness')
    native.send({ type: 'join', handle: 4, room: 'aw', doc: false })
    await native.next('joined')
    await native.next('presenceSnapshot')
    provider.disconnect()
    await presenceUntil(native, 4, (list) => list.length === 1)
  })

  it('authenticates with ?token= and applies the room permission', async () => {
    const authenticate = async ({ token }: { token?: string }): Promise<AuthenticatedUser> => {
      if (token === undefined || !token.startsWith('user:')) throw new Error('bad token')
      const userId = token.slice('user:'.length)
      return {
        userId,
        rooms: (room) => (room === 'secret' ? false : userId === 'viewer' ? 'read' : 'write'),
      }
    }
    await start({ authenticate })
    const native = await client({ token: 'user:ada' })
    native.send({ type: 'join', handle: 1, room: 'r', doc: true })
    await native.next('joined')
    await native.next('presenceSnapshot')

    const good = stock('r', { token: 'user:bob' })
    good.provider.awareness.setLocalState({ name: 'Bob' })
    await synced(good.provider)
    const entries = await presenceUntil(native, 1, (list) => list.length === 2)
    expect(entries.map((entry) => entry.userId).sort()).toEqual(['ada', 'bob'])

    const bad = stock('r', { token: 'nope' })
    expect(await closedWith(bad.provider)).toEqual({
      code: CloseCode.Unauthorized,
      reason: 'bad token',
    })
    const missing = stock('r')
    expect((await closedWith(missing.provider)).code).toBe(CloseCode.Unauthorized)
    const forbidden = stock('secret', { token: 'user:bob' })
    expect(await closedWith(forbidden.provider)).toEqual({
      code: CloseCode.Forbidden,
      reason: 'not allowed to join room "secret"',
    })
  })

  it("drops a read-only stock client's edits and keeps the document unchanged", async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    await start({
      authenticate: async ({ token }) => ({
        userId: token ?? 'x',
        rooms: () => (token === 'viewer' ? 'read' : 'write'),
      }),
    })
    const writer = await client({ token: 'writer' })
    await joinDoc(writer, 1, 'r')
    writer.send({ type: 'doc', handle: 1, seq: 1, message: updateMessage(textUpdateFor('fixed')) })
    await writer.next('ack')
    const before = await serverState(writer, 1)
    const viewer = stock('r', { token: 'viewer' })
    await synced(viewer.provider)
    expect(viewer.text.toString()).toBe('fixed')
    viewer.text.insert(0, 'vandal ')
    await until(() => warn.mock.calls.length > 0, 'the permission-denied message')
    expect(String(warn.mock.calls[0]?.[0])).toMatch(/Permission denied/)
    expect(await serverState(writer, 1)).toEqual(before)
  })
})

describe('/yjs/<room> on the raw protocol', () => {
  async function raw(path: string, headers?: Record<string, string>) {
    if (server === undefined) throw new Error('no server')
    const socket = await openTestSocket(`ws://127.0.0.1:${server.port}${path}`, { headers })
    sockets.push(socket)
    return socket
  }

  function syncMessage(write: (encoder: encoding.Encoder) => void): Uint8Array {
    const encoder = encoding.createEncoder()
    encoding.writeVarUint(encoder, 0)
    write(encoder)
    return encoding.toUint8Array(encoder)
  }

  it('sends its step 1 on connect and answers step 1 with step 2', async () => {
    await start()
    const native = await client()
    await joinDoc(native, 1, 'room with spaces')
    native.send({ type: 'doc', handle: 1, seq: 1, message: updateMessage(textUpdateFor('hi')) })
    await native.next('ack')
    const socket = await raw('/yjs/room%20with%20spaces')
    const first = decoding.createDecoder((await socket.next()).data)
    expect(decoding.readVarUint(first)).toBe(0)
    expect(decoding.readVarUint(first)).toBe(syncProtocol.messageYjsSyncStep1)
    // Then the awareness snapshot: the native member's (empty) presence.
    const awareness = decoding.createDecoder((await socket.next()).data)
    expect(decoding.readVarUint(awareness)).toBe(1)
    socket.send(syncMessage((encoder) => syncProtocol.writeSyncStep1(encoder, new Y.Doc())))
    const answer = decoding.createDecoder((await socket.next()).data)
    expect(decoding.readVarUint(answer)).toBe(0)
    const { type, payload } = readSync(decoding.readTailAsUint8Array(answer))
    expect(type).toBe(syncProtocol.messageYjsSyncStep2)
    expect(textOf(payload)).toBe('hi')
  })

  it('a malformed sync payload closes that socket with 4400; the document is unchanged', async () => {
    await start()
    const native = await client()
    await joinDoc(native, 1, 'r')
    native.send({ type: 'doc', handle: 1, seq: 1, message: updateMessage(textUpdateFor('safe')) })
    await native.next('ack')
    const before = await serverState(native, 1)
    const socket = await raw('/yjs/r')
    await socket.next()
    const full = textUpdateFor('half', true)
    socket.send(
      syncMessage((encoder) =>
        syncProtocol.writeUpdate(encoder, full.subarray(0, full.length - 2)),
      ),
    )
    const closed = await socket.closed
    expect(closed.code).toBe(CloseCode.MalformedFrame)
    const garbage = await raw('/yjs/r')
    garbage.send(new Uint8Array([9, 9, 9]))
    expect((await garbage.closed).code).toBe(CloseCode.MalformedFrame)
    expect(await serverState(native, 1)).toEqual(before)
  })

  it('keeps a quiet y-websocket client alive: protocol pings plus an empty awareness message', async () => {
    await start({ presenceTimeoutMs: 300, pingIntervalMs: 50 })
    const socket = await raw('/yjs/quiet')
    let pings = 0
    socket.ws.on('ping', () => {
      pings += 1
    })
    await socket.next() // step 1
    const keepalive = await socket.next()
    expect([...keepalive.data]).toEqual([1, 1, 0])
    // `ws` answers protocol pings by itself, so the silent client is not timed out.
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(pings).toBeGreaterThan(2)
    expect(socket.ws.readyState).toBe(WebSocket.OPEN)
  })

  it('refuses a disallowed Origin at the upgrade and 404s a bare /yjs', async () => {
    await start({ allowedOrigins: ['https://app.test'] })
    await expect(raw('/yjs/r', { origin: 'https://evil.test' })).rejects.toMatchObject({
      status: 403,
    })
    const listed = await raw('/yjs/r', { origin: 'https://app.test' })
    expect((await listed.next()).data[0]).toBe(0)
  })

  it('answers a query-awareness message with every state; ignores echoed states', async () => {
    await start()
    const native = await client()
    native.send({ type: 'join', handle: 1, room: 'q', doc: false, presence: { n: 1 } })
    await native.next('joined')
    await native.next('presenceSnapshot')
    const socket = await raw('/yjs/q')
    await socket.next() // step 1
    const initial = await socket.next() // awareness snapshot
    const awarenessBytes = decoding.createDecoder(initial.data)
    expect(decoding.readVarUint(awarenessBytes)).toBe(1)
    const update = decoding.readVarUint8Array(awarenessBytes)
    // Echo it back, as y-websocket does: it must not become a second presence entry.
    const echo = encoding.createEncoder()
    encoding.writeVarUint(echo, 1)
    encoding.writeVarUint8Array(echo, update)
    socket.send(encoding.toUint8Array(echo))
    socket.send(new Uint8Array([3]))
    const answer = decoding.createDecoder((await socket.next()).data)
    expect(decoding.readVarUint(answer)).toBe(1)
    const scratch = new awarenessProtocol.Awareness(new Y.Doc())
    awarenessProtocol.applyAwarenessUpdate(scratch, decoding.readVarUint8Array(answer), 'test')
    expect([...scratch.getStates().values()]).toContainEqual({ n: 1 })
    scratch.destroy()
    expect(await presenceOf(native, 1)).toHaveLength(1)
  })

  it('leaves nothing behind once everyone left and the unload delay passed', async () => {
    await start({ documentUnloadDelayMs: 20 })
    const baseline = server?.stats().timers
    const one = stock('gone')
    one.provider.awareness.setLocalState({ here: true })
    await synced(one.provider)
    one.text.insert(0, 'x')
    const native = await client()
    await joinDoc(native, 1, 'gone')
    expect(server?.stats().documents).toBe(1)
    one.provider.destroy()
    await native.close()
    if (server === undefined) throw new Error('no server')
    await statsReach(server, { connections: 0, documents: 0, rooms: 0, timers: baseline ?? -1 })
  })
})

/** An update inserting `text` into text `t`; with `withDelete`, one that also deletes. */
function textUpdateFor(text: string, withDelete = false): Uint8Array {
  const doc = new Y.Doc()
  doc.getText('t').insert(0, `${text} and more`)
  if (withDelete) doc.getText('t').delete(0, 3)
  else doc.getText('t').delete(text.length, ' and more'.length)
  return Y.encodeStateAsUpdate(doc)
}
