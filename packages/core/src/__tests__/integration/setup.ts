// Integration tests: the real client (`createClient` with `ws`) against the real server
// (`@syncline/server` on 127.0.0.1, random port) over real sockets. This file binds the generic
// helpers of @syncline/test-utils to the two packages; every test file creates one harness
// and calls `live.cleanup()` after each test, which destroys clients, closes servers and fails
// the test if a server still holds connections, rooms or timers.
import {
  decodeFrame,
  encodeFrame,
  type Frame,
  type FrameOf,
  PROTOCOL_VERSION,
  unbatch,
} from '@syncline/protocol'
import { createServer, type ServerOptions, type SynclineServer } from '@syncline/server'
import {
  createLiveHarness,
  openTestSocket,
  type TestSocket,
  waitForEqual,
  waitForValue,
} from '@syncline/test-utils'
import WebSocket from 'ws'
import { createClient, type SynclineClient } from '../../client'
import { createEnvironment } from '../../environment'
import type { ClientOptions } from '../../options'
import type { Peer } from '../../presence'
import type { Presence, Room } from '../../room'

/** A logger that keeps the server's handled warnings out of the test output. */
export function quietLogger() {
  const messages: string[] = []
  const log = (message: string) => {
    messages.push(message)
  }
  return { messages, warn: log, error: log }
}

/** Small backoff so reconnects take milliseconds, not seconds. */
export const fastBackoff = { initialDelayMs: 20, maxDelayMs: 100 } as const

/** Options of a test client: those of `createClient`, with `url` defaulting to the target's. */
export type TestClientOptions = Omit<ClientOptions, 'url'> & { url?: ClientOptions['url'] }

/** A harness of real servers and `ws`-backed clients with an isolated environment each. */
export function createLive() {
  return createLiveHarness<ServerOptions, SynclineServer, TestClientOptions, SynclineClient>({
    createServer: (options) =>
      createServer({ host: '127.0.0.1', port: 0, logger: quietLogger(), ...options }),
    createClient: (options, url) =>
      createClient({
        WebSocket,
        environment: createEnvironment(),
        backoff: fastBackoff,
        ...options,
        url: options.url ?? url,
      }),
  })
}

/** Waits until the client is connected. */
export function connected(client: SynclineClient, timeoutMs = 5_000) {
  return waitForEqual(client.status, 'connected', { timeoutMs, label: 'status "connected"' })
}

/** Waits until the room is synced. */
export function synced<P extends Presence>(room: Room<P>, timeoutMs = 5_000) {
  return waitForEqual(room.status, 'synced', { timeoutMs, label: `room "${room.name}" synced` })
}

/** Waits until `room.others` satisfies `predicate`. */
export function othersWhere<P extends Presence>(
  room: Room<P>,
  predicate: (others: readonly Peer<P>[]) => boolean,
  label = 'others to match',
  timeoutMs = 5_000,
) {
  return waitForValue(room.others, predicate, { label, timeoutMs })
}

/** A raw protocol client: frames in, frames out, for sending what a real client never would. */
export interface RawClient {
  readonly socket: TestSocket
  send(frame: Frame): void
  /** The next frame of `type`, skipping others (batches are flattened). */
  next<T extends Frame['type']>(type: T, timeoutMs?: number): Promise<FrameOf<T>>
}

/** Opens a raw socket to `port`, says hello and waits for the welcome. */
export async function rawClient(port: number, token?: string): Promise<RawClient> {
  const socket = await openTestSocket(`ws://127.0.0.1:${port}/`)
  const buffered: Frame[] = []
  const client: RawClient = {
    socket,
    send(frame) {
      socket.send(encodeFrame(frame))
    },
    async next(type, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const index = buffered.findIndex((frame) => frame.type === type)
        if (index >= 0) return buffered.splice(index, 1)[0] as FrameOf<typeof type>
        const message = await socket.next(Math.max(1, deadline - Date.now()))
        buffered.push(...unbatch(decodeFrame(new Uint8Array(message.data))))
      }
    },
  }
  client.send({ type: 'hello', version: PROTOCOL_VERSION, ...(token !== undefined && { token }) })
  await client.next('welcome')
  return client
}
