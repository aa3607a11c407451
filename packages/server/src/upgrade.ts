// The HTTP upgrade is the security gate: path, Origin allow-list and credentials carried by the
// HTTP request are checked here, and refused with an HTTP status before any WebSocket exists.
import { type IncomingMessage, STATUS_CODES } from 'node:http'
import type { Duplex } from 'node:stream'
import type { WebSocket, WebSocketServer } from 'ws'
import { bearerToken, hasUpgradeCredentials, runAuthenticate } from './auth'
import type { UpgradeContext } from './connection'
import type { ResolvedOptions } from './options'
import type { YjsUpgradeContext } from './yjsConnection'
import { isYjsPath, parseYjsRequest } from './yjsEndpoint'

/** What the upgrade handler needs from the server. */
export interface UpgradeDeps {
  options: ResolvedOptions
  wss: WebSocketServer
  /** True once the server is shutting down: new sockets are refused with 503. */
  isClosing: () => boolean
  /** Receives each accepted WebSocket of the native endpoint. */
  onConnection: (ws: WebSocket, context: UpgradeContext) => void
  /** Receives each accepted WebSocket of the `/yjs/<room>` endpoint. */
  onYjsConnection: (ws: WebSocket, context: YjsUpgradeContext) => void
}

/** The path of the native WebSocket endpoint. `/yjs/<room>` is the y-websocket endpoint. */
export const WEBSOCKET_PATH = '/'

/** The request path without its query string. */
export function requestPath(url: string | undefined): string {
  const path = (url ?? '').split('?', 1)[0]
  return path === undefined || path === '' ? '/' : path
}

/**
 * Whether a request with this `Origin` header may open a socket: yes when no allow-list is
 * configured or when the header is absent (non-browser clients cannot be tricked into
 * sending cookies cross-site); otherwise only listed origins.
 */
export function originAllowed(
  origin: string | undefined,
  allowed: ReadonlySet<string> | undefined,
): boolean {
  if (allowed === undefined || origin === undefined) return true
  try {
    return allowed.has(new URL(origin).origin)
  } catch {
    return false
  }
}

/** Answers an upgrade request with a plain HTTP error and closes the TCP socket. */
export function rejectUpgrade(socket: Duplex, status: number, message: string): void {
  if (socket.destroyed) return
  const body = `${message}\n`
  socket.once('finish', () => socket.destroy())
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      '\r\n' +
      body,
  )
}

/**
 * Handles one `upgrade` event: 404 for other paths, 503 while shutting down, 403 for a
 * disallowed Origin, 401 when credentials on the request are refused by `authenticate`;
 * otherwise completes the WebSocket handshake (ws validates the handshake headers itself).
 * `/yjs/<room>` upgrades pass the same path, shutdown and Origin checks; their credentials
 * (the `?token=` parameter, or else an `Authorization: Bearer` header or cookies) are checked
 * by the connection right after the handshake, so that a refusal is a 4401 close, which
 * y-websocket reports and does not retry, instead of an HTTP 401 it would retry forever.
 */
export async function handleUpgrade(
  request: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  deps: UpgradeDeps,
): Promise<void> {
  // Until ws owns the socket, a reset connection must not become an uncaught 'error'.
  socket.on('error', () => socket.destroy())
  const path = requestPath(request.url)
  const yjs = isYjsPath(path)
  if (path !== WEBSOCKET_PATH && !yjs) {
    rejectUpgrade(socket, 404, 'not found')
    return
  }
  if (deps.isClosing()) {
    rejectUpgrade(socket, 503, 'server shutting down')
    return
  }
  const { headers } = request
  const origin = headers.origin
  if (!originAllowed(origin, deps.options.allowedOrigins)) {
    rejectUpgrade(socket, 403, 'origin not allowed')
    return
  }
  if (yjs) {
    const { room, token } = parseYjsRequest(request.url ?? '')
    const credential = token ?? bearerToken(headers)
    deps.wss.handleUpgrade(request, socket, head, (ws) => {
      deps.onYjsConnection(ws, { room, token: credential, headers, origin })
    })
    return
  }
  let user: UpgradeContext['user']
  const { authenticate } = deps.options
  if (authenticate !== undefined && hasUpgradeCredentials(headers)) {
    const token = bearerToken(headers)
    const outcome = await runAuthenticate(authenticate, {
      headers,
      phase: 'upgrade',
      ...(token !== undefined && { token }),
      ...(origin !== undefined && { origin }),
    })
    if (outcome.kind === 'refused') {
      rejectUpgrade(socket, 401, 'unauthorized')
      return
    }
    if (outcome.kind === 'accepted') user = outcome.user
    if (socket.destroyed) return
    if (deps.isClosing()) {
      rejectUpgrade(socket, 503, 'server shutting down')
      return
    }
  }
  deps.wss.handleUpgrade(request, socket, head, (ws) => {
    deps.onConnection(ws, { headers, origin, user })
  })
}
