// Target: Syncline's server (the BUILT @syncline/server, presence coalesced per tick) with
// lean raw-`ws` clients speaking the wire protocol through @syncline/protocol's codec, so that
// client-side cost (not @syncline/core's stores) does not bottleneck the load processes.
import { decodeFrame, encodeFrame, PROTOCOL_VERSION, unbatch } from '@syncline/protocol'
import WebSocket from 'ws'

export const label = 'Syncline'

const HANDLE = 1

/** Starts the server in this (server) process. */
export async function startServer({ host, tickMs }) {
  const { createServer } = await import('@syncline/server')
  const options = { port: 0, host }
  if (tickMs !== undefined) options.presenceTickMs = tickMs
  const server = createServer(options)
  await server.listen()
  return { port: server.port, close: () => server.close() }
}

/**
 * Opens one simulated user in a load process: hello, join with an initial presence, and
 * resolves once `joined` and the presence snapshot arrived. `presenceDiff` set-changes are
 * handed to `onState`; server pings are answered.
 */
export async function connect({ host, port, room, u, onState, onFrame, onNote }) {
  const ws = new WebSocket(`ws://${host}:${port}/`, { perMessageDeflate: false })
  let joined = false
  let snapshot = false
  let lastSeq = -1
  let settle
  const ready = new Promise((resolve, reject) => {
    settle = { resolve, reject }
    ws.once('error', reject)
  })
  const check = () => joined && snapshot && settle.resolve()
  const patience = setTimeout(
    () => settle.reject(new Error(`no ${joined ? 'presenceSnapshot' : 'joined'} within 10 s`)),
    10_000,
  )
  ws.on('close', (code, reason) => {
    onNote(`close ${code} ${reason}`)
    settle.reject(new Error(`closed ${code} ${reason}`))
  })
  const handle = (frame) => {
    switch (frame.type) {
      case 'presenceDiff':
        if (lastSeq >= 0 && frame.seq !== lastSeq + 1) onNote('presence diff gap')
        lastSeq = frame.seq
        for (const change of frame.changes) {
          if (change.op === 'set' && change.presence && change.presence.t !== undefined) {
            onState(change.presence)
          }
        }
        return
      case 'ping':
        ws.send(encodeFrame({ type: 'pong', id: frame.id }))
        return
      case 'presenceSnapshot':
        lastSeq = frame.seq
        snapshot = true
        check()
        return
      case 'joined':
        joined = true
        check()
        return
      case 'denied':
        settle.reject(new Error(`denied ${frame.code}: ${frame.reason}`))
        return
      case 'error':
        onNote(`error ${frame.code}: ${frame.message}`)
        if (!snapshot) settle.reject(new Error(`error ${frame.code}: ${frame.message}`))
        return
      default:
    }
  }
  ws.on('message', (data) => {
    onFrame()
    for (const frame of unbatch(decodeFrame(data))) handle(frame)
  })
  await new Promise((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
  })
  ws.send(encodeFrame({ type: 'hello', version: PROTOCOL_VERSION }))
  ws.send(
    encodeFrame({ type: 'join', handle: HANDLE, room, doc: false, presence: { u, x: 0, y: 0 } }),
  )
  try {
    await ready
  } finally {
    clearTimeout(patience)
  }
  return {
    send: (presence) => ws.send(encodeFrame({ type: 'presence', handle: HANDLE, presence })),
    close: () => ws.close(1000),
  }
}
