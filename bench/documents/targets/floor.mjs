// Reference target, fan-out only: the cheapest relay one can write on `ws` — no document, no
// validation, no acks, no protocol beyond y-websocket's sync framing. It forwards every
// update, merged per window like Syncline's (same length), to every socket. Its CPU per delivery is
// what receiving and sending WebSocket messages costs on this box, the floor under any server
// that keeps a document; it cannot answer a sync from stored state, so it has no sync figures.
import { defaults } from '@syncline/server'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { WebSocketServer } from 'ws'
import * as Y from 'yjs'
import { hostWebSocketServer } from '../../presence/hostWebSocketServer.mjs'
import { transport as ywebsocketTransport } from './ywebsocket.mjs'

export const label = 'bare ws relay (reference)'

// The same window as Syncline's (its default, or --flush-ms), so the reference batches alike.
const WINDOW_MS = Number(process.env.SYNCLINE_BENCH_FLUSH_MS || defaults.documentFlushMs)
// y-protocols: message type sync (0), then step 1 (0), step 2 (1) or update (2).
const EMPTY_STEP2 = Uint8Array.from([0, 1, 2, 0, 0])
const EMPTY_STEP1 = Uint8Array.from([0, 0, 1, 0])

export async function startServer({ host }) {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false })
  const sockets = new Set()
  let pending = []
  let timer
  const flush = () => {
    timer = undefined
    const merged = pending.length === 1 ? pending[0] : Y.mergeUpdates(pending)
    pending = []
    const encoder = encoding.createEncoder()
    encoding.writeVarUint(encoder, 0)
    encoding.writeVarUint(encoder, 2)
    encoding.writeVarUint8Array(encoder, merged)
    const message = encoding.toUint8Array(encoder)
    for (const ws of sockets) ws.send(message)
  }
  wss.on('connection', (ws) => {
    sockets.add(ws)
    ws.on('close', () => sockets.delete(ws))
    ws.on('message', (data) => {
      const decoder = decoding.createDecoder(new Uint8Array(data))
      if (decoding.readVarUint(decoder) !== 0) return
      const step = decoding.readVarUint(decoder)
      if (step === 0) {
        ws.send(EMPTY_STEP2)
        ws.send(EMPTY_STEP1)
        return
      }
      pending.push(decoding.readVarUint8Array(decoder))
      timer ??= setTimeout(flush, WINDOW_MS)
    })
  })
  const hosted = await hostWebSocketServer(wss, host)
  return {
    port: hosted.port,
    close: async () => {
      clearTimeout(timer)
      await hosted.close()
    },
  }
}

/** The y-websocket client framing (sync messages prefixed with message type 0). */
export const transport = ywebsocketTransport
