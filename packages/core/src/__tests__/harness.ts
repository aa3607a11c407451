// Builds a client wired to a fake server and a hand-driven environment, so connection and
// room tests read as a script: the test plays the server and the browser.
import { createFakeServer, type FakeSocket } from '@syncline/test-utils'
import { vi } from 'vitest'
import { createClient } from '../client'
import type { ClientStatus, DroppedInfo } from '../connection'
import { createEnvironment } from '../environment'
import type { SynclineError } from '../errors'
import type { ClientOptions } from '../options'

/** Lets pending promises (url/auth resolution, microtask close events) settle. */
export async function flush(): Promise<void> {
  await vi.advanceTimersByTimeAsync(0)
}

/** A client with a fake server; backoff jitter fixed at half the cap unless overridden. */
export function setup(overrides: Partial<ClientOptions> = {}) {
  const server = createFakeServer()
  const environment = createEnvironment()
  const client = createClient({
    url: 'ws://syncline.test',
    WebSocket: server.WebSocket,
    environment,
    backoff: { random: () => 0.5 },
    ...overrides,
  })
  const statuses: ClientStatus[] = [client.status.get()]
  const errors: SynclineError[] = []
  const dropped: DroppedInfo[] = []
  const events: string[] = []
  client.on('status', (status) => statuses.push(status))
  client.on('error', (error) => errors.push(error))
  client.on('dropped', (info) => dropped.push(info))
  client.on('lost', () => events.push('lost'))
  client.on('restored', () => events.push('restored'))
  return { server, environment, client, statuses, errors, dropped, events }
}

/** Waits for the client's next socket and completes the handshake. */
export async function welcomeNext(
  server: ReturnType<typeof createFakeServer>,
  overrides: Parameters<FakeSocket['welcome']>[0] = {},
): Promise<FakeSocket> {
  await flush()
  const socket = server.last
  socket.welcome(overrides)
  return socket
}
