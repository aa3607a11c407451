// The `/yjs/<room>` endpoint's URL: a stock y-websocket WebsocketProvider connects to
// `${serverUrl}/${roomname}` with its `params` as the query string, so the room name is the rest
// of the path and the token (for `authenticate`) is the `token` query parameter.

/** Path prefix of the y-websocket endpoint. */
export const YJS_PATH_PREFIX = '/yjs/'

/** What the URL of a `/yjs/<room>` request says. */
export interface YjsRequest {
  /** The room name (percent-decoded), or `undefined` when it cannot be decoded. */
  room: string | undefined
  /** The `token` query parameter, if present. */
  token: string | undefined
}

/** Whether `path` (without query) addresses the y-websocket endpoint. */
export function isYjsPath(path: string): boolean {
  return path.startsWith(YJS_PATH_PREFIX)
}

/**
 * Reads the room and token from a `/yjs/<room>?token=…` request URL. y-websocket does not
 * encode the room name, so both encoded and plain names work (`a%20b` and `a b` are one room).
 */
export function parseYjsRequest(url: string): YjsRequest {
  const queryAt = url.indexOf('?')
  const path = queryAt === -1 ? url : url.slice(0, queryAt)
  const query = queryAt === -1 ? '' : url.slice(queryAt + 1)
  let room: string | undefined
  try {
    room = decodeURIComponent(path.slice(YJS_PATH_PREFIX.length))
  } catch {
    room = undefined
  }
  const token = new URLSearchParams(query).get('token') ?? undefined
  return { room, token }
}
