// Closing a socket we may never hear from again: send the close frame, and terminate the socket
// if the peer does not answer within the grace period (a blackholed peer never completes the
// close handshake). Shared by the native and the y-websocket connections.
import type WebSocket from 'ws'
import { truncateCloseReason } from './closeReason'
import { limits } from './defaults'
import type { TimerHandle, TimerSet } from './timers'

/**
 * Sends a close frame with `code` and `reason` (cut to what RFC 6455 allows) and returns the
 * timer that terminates the socket after `limits.closeGraceMs`; the caller owns that timer and
 * clears it when the socket closed. Returns undefined when the socket had to be terminated at
 * once (close threw: it was not open).
 */
export function closeWithGrace(
  ws: WebSocket,
  code: number,
  reason: string,
  timers: TimerSet,
): TimerHandle | undefined {
  try {
    ws.close(code, truncateCloseReason(reason))
  } catch {
    ws.terminate()
    return undefined
  }
  return timers.timeout(() => ws.terminate(), limits.closeGraceMs)
}
