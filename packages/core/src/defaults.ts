// Every default of @syncline/core in one place, each with the reason it has this value, so
// tuning one is a one-line change and the README table cannot drift from the code.

/** Defaults of the reconnect backoff. */
export const DEFAULT_BACKOFF = {
  /** Short enough that a blip (Wi-Fi hand-over, server restart) is invisible; Liveblocks' first step. */
  initialDelayMs: 250,
  /** A user waits at most ~10 s after the network returns (Liveblocks' cap); `online`,
   * `visibilitychange` and `pageshow` skip the wait entirely. */
  maxDelayMs: 10_000,
  /** Doubling reaches the cap in six attempts; full jitter spreads a reconnect storm across it. */
  multiplier: 2,
} as const

/** A disconnection shorter than this is a blip, not worth a "connection lost" banner (Liveblocks: 5 s). */
export const DEFAULT_LOST_CONNECTION_TIMEOUT_MS = 5000

/** Defaults of the offline queue. */
export const DEFAULT_OFFLINE_QUEUE = {
  /** Enough for a minute of chat-like broadcasts; presence coalesces, so it never fills this. */
  maxMessages: 1000,
  /** Bounds memory on a long offline spell; equals the server's default `maxPayloadBytes`. */
  maxBytes: 1_048_576,
} as const

/** Defaults of the dead-peer watchdog. */
export const DEFAULT_HEARTBEAT = {
  /** Slack on top of the server's ping interval for a slow network or a busy server before
   * the connection counts as dead. */
  graceMs: 5000,
  /** After a late timer (throttled tab, sleeping machine) a probe ping gets this long to be
   * answered; a round trip on a live connection takes well under a second. */
  probeTimeoutMs: 3000,
  /** Chrome aligns background-tab timers to 1 s, so a timer up to this late is normal; later
   * means intensive throttling or sleep, where silence proves nothing. */
  lateTimerToleranceMs: 1000,
} as const

/** Opening the socket and receiving `welcome` must take less than this, or the attempt is
 * abandoned and retried: browsers can wait minutes on a black-holed TCP connect. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000

/** The server's default `maxPayloadBytes`, used to refuse oversized frames before `welcome`
 * tells the real limit. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1_048_576

/** The server refuses longer room names (`invalid_room`); refusing them locally is clearer. */
export const MAX_ROOM_NAME_LENGTH = 256

/** 20 updates per second: smooth enough for cursors (with interpolation) and well inside the
 * server's per-connection rate limit, leaving room for typing and broadcasts. */
export const DEFAULT_PRESENCE_THROTTLE_MS = 50

/** Retries of a document load the server reported as failed (`load_failed` after joining): a
 * store outage usually lasts seconds, so start at 1 s; cap at 30 s so a long outage costs the
 * server one cheap request per client per half minute. Full jitter spreads the retries. */
export const DEFAULT_DOC_LOAD_RETRY = {
  initialDelayMs: 1000,
  maxDelayMs: 30_000,
  multiplier: 2,
} as const

/** Sent with `close()` on `destroy()`; the server then knows the leave was intended. */
export const NORMAL_CLOSE_CODE = 1000
