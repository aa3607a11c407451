// Target: the y-websocket server (@y/websocket-server's setupWSConnection, one Y.Doc per room)
// relaying y-protocols awareness, with a lean raw-`ws` awareness client (not WebsocketProvider).
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import WebSocket, { WebSocketServer } from 'ws'
import { encodeOneState, MESSAGE_AWARENESS, readStates } from '../awareness.mjs'
import { hostWebSocketServer } from '../hostWebSocketServer.mjs'

export const label = 'y-websocket server 0.1.5'

/** Starts the server in this (server) process, the way @y/websocket-server's bin does. */
export async function startServer({ host }) {
  const { setupWSConnection } = await import('@y/websocket-server/utils')
  const wss = new WebSocketServer({ noServer: true })
  wss.on('connection', setupWSConnection)
  return hostWebSocketServer(wss, host)
}

/** Opens one simulated user in a load process; resolves once the socket is open. */
export async function connect({ host, port, room, u, onState, onFrame }) {
  const ws = new WebSocket(`ws://${host}:${port}/${room}`, { perMessageDeflate: false })
  const clientId = u + 1
  let clock = 0
  ws.on('message', (data) => {
    onFrame()
    const decoder = decoding.createDecoder(data)
    // Sync messages (type 0: the server's sync step 1) are ignored: no document is used.
    if (decoding.readVarUint(decoder) === MESSAGE_AWARENESS) {
      readStates(decoding.readVarUint8Array(decoder), onState)
    }
  })
  await new Promise((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
  })
  return {
    send: (state) => {
      clock++
      const encoder = encoding.createEncoder()
      encoding.writeVarUint(encoder, MESSAGE_AWARENESS)
      encoding.writeVarUint8Array(encoder, encodeOneState(clientId, clock, state))
      ws.send(encoding.toUint8Array(encoder))
    },
    close: () => ws.close(),
  }
}
