// Hosts a `noServer` WebSocketServer the way the y-websocket server's bin does: one HTTP server
// on an ephemeral port that hands every upgrade to it. Shared by the bench targets that are not
// a library with a server of its own (the y-websocket server, the bare relay).
import { createServer as createHttpServer } from 'node:http'

/** Listens on `host` (port 0); `close` terminates every socket, then the HTTP server. */
export async function hostWebSocketServer(wss, host) {
  const http = createHttpServer((_req, res) => res.end('okay'))
  http.on('upgrade', (request, socket, head) => {
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request))
  })
  await new Promise((resolve) => http.listen(0, host, resolve))
  return {
    port: http.address().port,
    close: async () => {
      for (const ws of wss.clients) ws.terminate()
      await new Promise((resolve) => http.close(() => resolve()))
    },
  }
}
