// Every frame of the Syncline protocol as a typed value. The numeric tag is what travels on
// the wire (first varUint of a frame); the string `type` is what code switches on.

/** Wire tags. Never renumber: add new frames at the end. */
export const FrameTag = {
  hello: 0,
  welcome: 1,
  join: 2,
  joined: 3,
  denied: 4,
  leave: 5,
  error: 6,
  ping: 7,
  pong: 8,
  ack: 9,
  broadcast: 10,
  event: 11,
  presence: 12,
  presenceSnapshot: 13,
  presenceDiff: 14,
  presenceResync: 15,
  doc: 16,
  awareness: 17,
  subscribe: 18,
  unsubscribe: 19,
  feedEvent: 20,
  feedReset: 21,
  batch: 22,
} as const

/** Access a member has to a room. */
export type Access = 'write' | 'read'

/** Client → server, first frame of every connection. */
export interface HelloFrame {
  type: 'hello'
  version: number
  /** Token from the client's `auth` provider; never put in the URL. */
  token?: string
  /**
   * The `resumeToken` of the previous connection's welcome, so the server can treat this as a
   * quick reconnect (same connectionId, no presence flicker, same anonymous userId).
   */
  resume?: string
}

/** Server → client: the connection is authenticated. */
export interface WelcomeFrame {
  type: 'welcome'
  version: number
  connectionId: string
  userId: string
  /** How often the server pings; the client's watchdog is derived from it. */
  pingIntervalMs: number
  /** Largest frame the server accepts. */
  maxPayloadBytes: number
  /**
   * Secret that lets the next connection resume this one (`hello.resume`). Unlike the
   * connectionId, which every room member sees, it is only ever sent to this client.
   */
  resumeToken: string
}

/** Client → server: join `room` and address it as `handle` from now on. */
export interface JoinFrame {
  type: 'join'
  handle: number
  room: string
  /** Initial presence (JSON), announced atomically with the join. */
  presence?: unknown
  /** The client wants the room's document. */
  doc: boolean
}

/** Server → client: join accepted. */
export interface JoinedFrame {
  type: 'joined'
  handle: number
  access: Access
}

/** Server → client: join refused (or membership revoked); the socket stays usable. */
export interface DeniedFrame {
  type: 'denied'
  handle: number
  code: string
  reason: string
}

/** Client → server: leave the room addressed by `handle`. */
export interface LeaveFrame {
  type: 'leave'
  handle: number
}

/** Server → client: a request failed. `handle` 0 means the connection itself. */
export interface ErrorFrame {
  type: 'error'
  handle: number
  code: string
  message: string
}

/** Either side: liveness probe. The other side answers with a pong carrying the same `id`. */
export interface PingFrame {
  type: 'ping'
  id: number
}

/** Answer to a ping. */
export interface PongFrame {
  type: 'pong'
  id: number
}

/** Server → client: the frame numbered `seq` on `handle` has been applied. */
export interface AckFrame {
  type: 'ack'
  handle: number
  seq: number
}

/** Client → server: send `event` with a JSON payload to the other members of a room. */
export interface BroadcastFrame {
  type: 'broadcast'
  handle: number
  event: string
  payload: unknown
}

/** Server → client: a broadcast from another member. */
export interface EventFrame {
  type: 'event'
  handle: number
  event: string
  payload: unknown
  userId: string
  connectionId: string
}

/** Client → server: the sender's whole presence (JSON object) in a room. */
export interface PresenceFrame {
  type: 'presence'
  handle: number
  presence: unknown
}

/** One connection's presence as the server sees it. */
export interface PresenceEntry {
  connectionId: string
  userId: string
  presence: unknown
}

/** Server → client: everyone in the room; diffs numbered `seq + 1` onwards follow. */
export interface PresenceSnapshotFrame {
  type: 'presenceSnapshot'
  handle: number
  seq: number
  entries: PresenceEntry[]
}

/** One change inside a presence diff. */
export type PresenceChange =
  | ({ op: 'set' } & PresenceEntry)
  | { op: 'remove'; connectionId: string; userId: string }

/** Server → client: changes since diff `seq - 1` (or the snapshot with that seq). */
export interface PresenceDiffFrame {
  type: 'presenceDiff'
  handle: number
  seq: number
  changes: PresenceChange[]
}

/** Client → server: a gap was detected, send a new snapshot. */
export interface PresenceResyncFrame {
  type: 'presenceResync'
  handle: number
}

/**
 * Either direction: a y-protocols sync message (step 1, step 2 or update) embedded unchanged.
 * A client numbers its updates with `seq` (> 0) and the server acks each once applied; 0 means
 * no ack is wanted.
 */
export interface DocFrame {
  type: 'doc'
  handle: number
  seq: number
  message: Uint8Array
}

/** Either direction: a y-protocols awareness update embedded unchanged. */
export interface AwarenessFrame {
  type: 'awareness'
  handle: number
  update: Uint8Array
}

/** Client → server: receive feed `channel`, resuming after `lastEventId` when given. */
export interface SubscribeFrame {
  type: 'subscribe'
  channel: string
  lastEventId?: string
}

/** Client → server: stop receiving a feed. */
export interface UnsubscribeFrame {
  type: 'unsubscribe'
  channel: string
}

/** Server → client: one feed event. */
export interface FeedEventFrame {
  type: 'feedEvent'
  channel: string
  id: string
  data: unknown
}

/** Server → client: the server no longer holds the events after the requested id. */
export interface FeedResetFrame {
  type: 'feedReset'
  channel: string
  reason: string
}

/** Several frames in one WebSocket message (server coalescing). Batches do not nest. */
export interface BatchFrame {
  type: 'batch'
  frames: Frame[]
}

/** Any frame. */
export type Frame =
  | HelloFrame
  | WelcomeFrame
  | JoinFrame
  | JoinedFrame
  | DeniedFrame
  | LeaveFrame
  | ErrorFrame
  | PingFrame
  | PongFrame
  | AckFrame
  | BroadcastFrame
  | EventFrame
  | PresenceFrame
  | PresenceSnapshotFrame
  | PresenceDiffFrame
  | PresenceResyncFrame
  | DocFrame
  | AwarenessFrame
  | SubscribeFrame
  | UnsubscribeFrame
  | FeedEventFrame
  | FeedResetFrame
  | BatchFrame

/** The frame type with the given `type` string. */
export type FrameOf<T extends Frame['type']> = Extract<Frame, { type: T }>
