// Target: Socket.IO 4.8 room broadcast (`socket.to(room).emit`), the most common way cursors
// are relayed today; clients speak its protocol over `ws` (or socket.io-client, websocket transport only).
import { createServer as createHttpServer } from 'node:http'
import WebSocket from 'ws'

export const label = 'Socket.IO 4.8'

/** Starts the server in this (server) process. */
export async function startServer({ host }) {
  const { Server } = await import('socket.io')
  const http = createHttpServer()
  const io = new Server(http, { transports: ['websocket'], serveClient: false })
  io.on('connection', (socket) => {
    const room = String(socket.handshake.query.room)
    socket.join(room)
    socket.on('cursor', (payload) => {
      socket.to(room).emit('cursor', payload)
    })
    socket.emit('ready')
  })
  await new Promise((resolve) => http.listen(0, host, resolve))
  return {
    port: http.address().port,
    close: () => new Promise((resolve) => io.close(() => resolve())),
  }
}

/**
 * Opens one simulated user in a load process; resolves once it is in the room. By default a
 * lean client speaks engine.io 4 / socket.io 5 text packets over raw `ws` (like the lean
 * clients of the other targets); `variant: 'official'` uses socket.io-client instead.
 */
export function connect(options) {
  return options.variant === 'official' ? connectOfficial(options) : connectLean(options)
}

async function connectLean({ host, port, room, onState, onFrame, onNote }) {
  const url = `ws://${host}:${port}/socket.io/?EIO=4&transport=websocket&room=${room}`
  const ws = new WebSocket(url, { perMessageDeflate: false })
  let settle
  const ready = new Promise((resolve, reject) => {
    settle = { resolve, reject }
    ws.once('error', reject)
  })
  ws.on('close', (code) => {
    onNote(`close ${code}`)
    settle.reject(new Error(`closed ${code}`))
  })
  ws.on('message', (data) => {
    onFrame()
    const text = data.toString()
    // engine.io packet type: 0 open, 2 ping, 4 message; socket.io: 0 connect, 2 event.
    if (text.startsWith('42')) {
      const [event, payload] = JSON.parse(text.slice(2))
      if (event === 'cursor') onState(payload)
      else if (event === 'ready') settle.resolve()
    } else if (text === '2') {
      ws.send('3')
    } else if (text.startsWith('0')) {
      ws.send('40') // connect to the main namespace
    } else if (text.startsWith('44')) {
      settle.reject(new Error(`connect error ${text}`))
    }
  })
  await ready
  return {
    send: (state) => ws.send(`42${JSON.stringify(['cursor', state])}`),
    close: () => ws.close(),
  }
}

async function connectOfficial({ host, port, room, onState, onFrame }) {
  const { io } = await import('socket.io-client')
  const socket = io(`http://${host}:${port}`, {
    transports: ['websocket'],
    forceNew: true, // one connection per simulated user, never multiplexed
    reconnection: false,
    query: { room },
  })
  socket.on('cursor', onState)
  await new Promise((resolve, reject) => {
    socket.once('ready', resolve)
    socket.once('connect_error', reject)
  })
  // Every engine.io packet over the websocket transport is one WebSocket message.
  socket.io.engine.on('packet', onFrame)
  return {
    send: (state) => socket.emit('cursor', state),
    close: () => socket.disconnect(),
  }
}
