// The close-code table: one place that says which WebSocket close codes a client retries and
// which end the connection for good. docs/protocol.md mirrors this table.

/** WebSocket close codes used by Syncline. 4xxx codes mirror the HTTP status they resemble. */
export const CloseCode = {
  /** Client or server closed on purpose (client `destroy()`). */
  Normal: 1000,
  /** Server shutting down or restarting: reconnect. */
  GoingAway: 1001,
  /** Connection dropped without a close frame (set by the WebSocket implementation). */
  Abnormal: 1006,
  /** A message broke a transport policy, e.g. split into too many fragments (sent by `ws`). */
  PolicyViolation: 1008,
  /** A frame exceeded `maxPayloadBytes` (sent by `ws` itself). */
  MessageTooBig: 1009,
  /** Unexpected server error. */
  InternalError: 1011,
  /** Server restarting. */
  ServiceRestart: 1012,
  /** Server overloaded, try again later. */
  TryAgainLater: 1013,
  /** A frame could not be decoded. Terminal: the client would send it again. */
  MalformedFrame: 4400,
  /** The token was missing, invalid or expired. The client fetches a new token once. */
  Unauthorized: 4401,
  /** Authenticated but not allowed to connect. Terminal. */
  Forbidden: 4403,
  /** Nothing received for too long (no hello, no pong). */
  Timeout: 4408,
  /** Client and server speak different protocol versions. Terminal. */
  ProtocolVersion: 4426,
  /** The connection exceeded its frame rate limit. Retried after backoff. */
  RateLimited: 4429,
} as const

/** A value of {@link CloseCode}. */
export type CloseCodeValue = (typeof CloseCode)[keyof typeof CloseCode]

/** What a client does after a close with a given code. */
export type CloseAction = 'retry' | 'reauthenticate' | 'fail'

const terminal = new Set<number>([
  CloseCode.MalformedFrame,
  CloseCode.Forbidden,
  CloseCode.ProtocolVersion,
])

/**
 * Decides what a client does after the socket closed with `code`.
 * Unknown codes are retried: giving up is reserved for codes that say retrying cannot help.
 */
export function closeAction(code: number): CloseAction {
  if (code === CloseCode.Unauthorized) return 'reauthenticate'
  return terminal.has(code) ? 'fail' : 'retry'
}
