// Errors are values with a machine-readable code and a message that names what to change, so
// callers can branch on `code` and users can act on `message` without reading our sources.

/** Machine-readable reason of a {@link SynclineError}. */
export type SynclineErrorCode =
  /** An option passed to `createClient` or `client.join` is not valid. */
  | 'invalid_option'
  /** An argument passed to a method (event name, payload, presence) is not valid. */
  | 'invalid_argument'
  /** No WebSocket implementation was found (pass `WebSocket`, e.g. `ws` in Node). */
  | 'no_websocket'
  /** The `url` option threw or returned something that is not a usable URL. */
  | 'url_failed'
  /** The `auth` provider threw or returned something that is not a string. */
  | 'auth_failed'
  /** A connection attempt ended before the server accepted it (refused upgrade, server down); retried. */
  | 'connection_failed'
  /** A frame would exceed the server's `maxPayloadBytes`; it was not sent. */
  | 'payload_too_large'
  /** The server sent bytes that are not a valid frame, or frames out of protocol order. */
  | 'protocol_error'
  /** The server reported an error (an `error` frame); `details` holds its code. */
  | 'server_error'
  /** The room was left (or denied) and can no longer be used. */
  | 'room_closed'
  /** The client was destroyed and can no longer be used. */
  | 'destroyed'

/** The one error type Syncline throws or emits. */
export class SynclineError extends Error {
  override readonly name = 'SynclineError'
  /** Machine-readable reason; stable across versions. */
  readonly code: SynclineErrorCode
  /** Extra data, e.g. the server's error code or the room name. */
  readonly details: Readonly<Record<string, unknown>> | undefined

  constructor(
    code: SynclineErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.details = options.details
  }
}

/** Message of an unknown thrown value, for wrapping it into a {@link SynclineError}. */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
