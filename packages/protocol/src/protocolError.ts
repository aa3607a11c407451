// The only error decoding can throw: callers (server and client) catch exactly this type
// and close the offending socket with CloseCode.MalformedFrame.

/** Why a frame could not be decoded. */
export type ProtocolErrorCode =
  | 'truncated'
  | 'trailing_bytes'
  | 'unknown_frame'
  | 'invalid_field'
  | 'invalid_json'
  | 'too_large'

/** Thrown by {@link decodeFrame} (and only by it) when bytes are not a valid frame. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError'
  /** Machine-readable reason. */
  readonly code: ProtocolErrorCode

  constructor(code: ProtocolErrorCode, message: string) {
    super(message)
    this.code = code
  }
}
