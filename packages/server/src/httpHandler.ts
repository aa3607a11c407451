// Plain HTTP on the WebSocket's port: a health check for load balancers and orchestrators,
// and clear answers for everything else, so the port never hangs or leaks a default page.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { requestPath, WEBSOCKET_PATH } from './upgrade'
import { isYjsPath } from './yjsEndpoint'

/** Counts shown by `/healthz`. */
export interface HealthCounts {
  connections: number
  rooms: number
}

function json(response: ServerResponse, status: number, body: unknown, head: boolean): void {
  const text = JSON.stringify(body)
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  })
  response.end(head ? undefined : text)
}

/**
 * The HTTP request listener: `GET /healthz` → 200 `{ status: 'ok', connections, rooms }` (503
 * `{ status: 'closing' }` during shutdown); `/` or `/yjs/<room>` without an upgrade → 426;
 * anything else → 404.
 */
export function createRequestHandler(
  counts: () => HealthCounts,
  isClosing: () => boolean,
): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    const path = requestPath(request.url)
    const head = request.method === 'HEAD'
    if (path === '/healthz' && (request.method === 'GET' || head)) {
      if (isClosing()) json(response, 503, { status: 'closing' }, head)
      else json(response, 200, { status: 'ok', ...counts() }, head)
      return
    }
    if (path === WEBSOCKET_PATH || isYjsPath(path)) {
      response.setHeader('upgrade', 'websocket')
      json(response, 426, { error: 'this endpoint speaks WebSocket only' }, head)
      return
    }
    json(response, 404, { error: 'not found' }, head)
  }
}
