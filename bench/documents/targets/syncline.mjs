// Target: Syncline's server (the BUILT @syncline/server) with its memory DocumentStore, and a
// lean raw-`ws` client speaking the wire protocol through @syncline/protocol's codec.
import { decodeFrame, encodeFrame, PROTOCOL_VERSION, unbatch } from '@syncline/protocol'

export const label = 'Syncline'

const HANDLE = 1

/**
 * Starts the server in this (server) process; `seed` preloads one room into its store.
 * `documentFlushMs` defaults to the server's own default (or `--flush-ms`).
 */
export async function startServer({ host, seed }, documentFlushMs = envFlushMs()) {
  const { createServer, createMemoryStore } = await import('@syncline/server')
  const store = createMemoryStore()
  if (seed) {
    // Stored as a compacted snapshot, as a long-lived document would be.
    await store.append(seed.room, [seed.update])
    const { position } = await store.load(seed.room)
    await store.compact(seed.room, seed.update, position)
  }
  const server = createServer({
    port: 0,
    host,
    store,
    ...(documentFlushMs !== undefined && { documentFlushMs }),
  })
  await server.listen()
  return {
    port: server.port,
    close: async () => {
      await server.close()
      await store.close()
    },
  }
}

function envFlushMs() {
  const value = process.env.SYNCLINE_BENCH_FLUSH_MS
  return value ? Number(value) : undefined
}

/**
 * The client side: hello, join with the document flag and sync step 1, pipelined in the first
 * packet (the protocol lets a client send room frames right behind `hello` and `join`; the
 * server processes them after the document is loaded). Updates are numbered so they are acked.
 */
export function transport({ host, port, room }) {
  let seq = 0
  return {
    url: `ws://${host}:${port}/`,
    opening: (step1) => [
      encodeFrame({ type: 'hello', version: PROTOCOL_VERSION }),
      encodeFrame({ type: 'join', handle: HANDLE, room, doc: true, presence: {} }),
      encodeFrame({ type: 'doc', handle: HANDLE, seq: 0, message: step1 }),
    ],
    send: (syncMessage) => {
      seq++
      return encodeFrame({ type: 'doc', handle: HANDLE, seq, message: syncMessage })
    },
    receive(data, reply, control) {
      const out = []
      for (const frame of unbatch(decodeFrame(data))) {
        if (frame.type === 'doc') out.push(frame.message)
        else if (frame.type === 'ping') reply(encodeFrame({ type: 'pong', id: frame.id }))
        else if (frame.type === 'ack') control('ack')
        else if (frame.type === 'denied' || frame.type === 'error') {
          throw new Error(`${frame.type} ${frame.code}: ${frame.reason ?? frame.message}`)
        }
      }
      return out
    },
  }
}
