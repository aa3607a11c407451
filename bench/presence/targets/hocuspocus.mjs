// Target: Hocuspocus 4.7 (awareness merged per event-loop turn), with a lean raw-`ws` client
// that authenticates, sends sync step 1 once and then only awareness updates.
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import WebSocket from 'ws'
import { encodeOneState, MESSAGE_AWARENESS, readStates } from '../awareness.mjs'

export const label = 'Hocuspocus 4.7'

const MESSAGE_SYNC = 0
const MESSAGE_AUTH = 2

/** Starts the server in this (server) process. */
export async function startServer({ host }) {
  const { Server } = await import('@hocuspocus/server')
  const server = new Server({ port: 0, address: host, quiet: true, stopOnSignals: false })
  await server.listen()
  return { port: server.address.port, close: () => server.destroy() }
}

/** Opens one simulated user in a load process; resolves once the document answered sync. */
export async function connect({ host, port, room, u, onState, onFrame }) {
  const ws = new WebSocket(`ws://${host}:${port}/`, { perMessageDeflate: false })
  const clientId = u + 1
  let clock = 0
  let synced
  const ready = new Promise((resolve, reject) => {
    synced = resolve
    ws.once('error', reject)
    ws.once('close', (code) => reject(new Error(`closed ${code} before sync`)))
  })
  ws.on('message', (data) => {
    onFrame()
    const decoder = decoding.createDecoder(data)
    decoding.readVarString(decoder) // document name
    const type = decoding.readVarUint(decoder)
    if (type === MESSAGE_AWARENESS) readStates(decoding.readVarUint8Array(decoder), onState)
    else if (type === MESSAGE_SYNC) synced()
  })
  await new Promise((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
  })
  const message = (type, write) => {
    const encoder = encoding.createEncoder()
    encoding.writeVarString(encoder, room)
    encoding.writeVarUint(encoder, type)
    write(encoder)
    return encoding.toUint8Array(encoder)
  }
  ws.send(
    message(MESSAGE_AUTH, (e) => {
      encoding.writeVarUint(e, 0) // token
      encoding.writeVarString(e, 'bench')
    }),
  )
  ws.send(
    message(MESSAGE_SYNC, (e) => {
      encoding.writeVarUint(e, 0) // sync step 1
      encoding.writeVarUint8Array(e, new Uint8Array([0])) // empty state vector
    }),
  )
  await ready
  return {
    send: (state) => {
      clock++
      ws.send(
        message(MESSAGE_AWARENESS, (e) =>
          encoding.writeVarUint8Array(e, encodeOneState(clientId, clock, state)),
        ),
      )
    },
    close: () => ws.close(),
  }
}
