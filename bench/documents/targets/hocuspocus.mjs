// Target: Hocuspocus 4.7 (updates merged per event-loop turn before broadcast), loading the
// document in onLoadDocument, with a lean raw-`ws` client (not HocuspocusProvider).
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'
import { wrap } from '../ysync.mjs'

export const label = 'Hocuspocus 4.7'

const MESSAGE_SYNC = 0
const MESSAGE_AUTH = 2
const MESSAGE_SYNC_REPLY = 4
const MESSAGE_SYNC_STATUS = 8

/** Starts the server in this (server) process; `seed` is applied in onLoadDocument. */
export async function startServer({ host, seed }) {
  const { Server } = await import('@hocuspocus/server')
  const server = new Server({
    port: 0,
    address: host,
    quiet: true,
    stopOnSignals: false,
    async onLoadDocument({ documentName, document }) {
      if (seed && documentName === seed.room) Y.applyUpdate(document, seed.update)
    },
  })
  await server.listen()
  return { port: server.address.port, close: () => server.destroy() }
}

/**
 * The client side: every message starts with the document name; the provider's auth message
 * (a token, no onAuthenticate hook on the server) is pipelined with sync step 1.
 */
export function transport({ host, port, room }) {
  const auth = () => {
    const encoder = encoding.createEncoder()
    encoding.writeVarString(encoder, room)
    encoding.writeVarUint(encoder, MESSAGE_AUTH)
    encoding.writeVarUint(encoder, 0) // token
    encoding.writeVarString(encoder, 'bench')
    return encoding.toUint8Array(encoder)
  }
  return {
    url: `ws://${host}:${port}/`,
    opening: (step1) => [auth(), wrap([room, MESSAGE_SYNC], step1)],
    send: (syncMessage) => wrap([room, MESSAGE_SYNC], syncMessage),
    receive(data, _reply, control) {
      const decoder = decoding.createDecoder(data)
      decoding.readVarString(decoder)
      const type = decoding.readVarUint(decoder)
      if (type === MESSAGE_SYNC || type === MESSAGE_SYNC_REPLY) return [data.subarray(decoder.pos)]
      if (type === MESSAGE_SYNC_STATUS) control('ack')
      else if (type === MESSAGE_AUTH && decoding.readVarUint(decoder) === 1) {
        throw new Error(`permission denied: ${decoding.readVarString(decoder)}`)
      }
      return []
    },
  }
}
