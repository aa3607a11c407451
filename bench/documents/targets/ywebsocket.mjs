// Target: the y-websocket server (@y/websocket-server's setupWSConnection, one Y.Doc per room,
// the way its bin runs it) with a lean raw-`ws` y-protocols client (not WebsocketProvider).
import * as decoding from 'lib0/decoding'
import { WebSocketServer } from 'ws'
import * as Y from 'yjs'
import { hostWebSocketServer } from '../../presence/hostWebSocketServer.mjs'
import { wrap } from '../ysync.mjs'

export const label = 'y-websocket server 0.1.5'

const MESSAGE_SYNC = 0

/**
 * Starts the server in this (server) process. `seed` preloads one room through the server's
 * persistence hook (`bindState`, called when a room's doc is created), applied synchronously
 * from memory, so the first sync answer already has the document.
 */
export async function startServer({ host, seed }) {
  const utils = await import('@y/websocket-server/utils')
  if (seed) {
    utils.setPersistence({
      provider: null,
      bindState: (name, ydoc) => {
        if (name === seed.room) Y.applyUpdate(ydoc, seed.update)
      },
      writeState: async () => {},
    })
  }
  const wss = new WebSocketServer({ noServer: true })
  wss.on('connection', utils.setupWSConnection)
  return hostWebSocketServer(wss, host)
}

/** The client side: sync step 1 on open; sync messages are prefixed with message type 0. */
export function transport({ host, port, room }) {
  return {
    url: `ws://${host}:${port}/${room}`,
    opening: (step1) => [wrap([MESSAGE_SYNC], step1)],
    send: (syncMessage) => wrap([MESSAGE_SYNC], syncMessage),
    receive(data) {
      const decoder = decoding.createDecoder(data)
      // Awareness (1) is ignored: the lean clients set no awareness state.
      if (decoding.readVarUint(decoder) !== MESSAGE_SYNC) return []
      return [data.subarray(decoder.pos)]
    },
  }
}
