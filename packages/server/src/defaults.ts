// Every default of @syncline/server in one place, each with the reason it has that value, so a
// reader can tell a deliberate choice from an accident and change it knowingly.

/**
 * Default values of {@link ServerOptions} and of the server's internal limits.
 * Options documented in the README; internal limits are not options on purpose (see each note).
 */
export const defaults = {
  /** Port used by the DESIGN examples (`ws://localhost:4321`), so examples work unchanged. */
  port: 4321,
  /**
   * All IPv4 interfaces, like most servers, so the CLI works in containers and on a LAN.
   * Tests and local-only setups pass `127.0.0.1`.
   */
  host: '0.0.0.0',
  /**
   * A connection silent this long (no frame, no pong) is gone. 30 s matches y-websocket and
   * Phoenix, long enough for throttled background tabs, short enough that a ghost leaves soon.
   */
  presenceTimeoutMs: 30_000,
  /**
   * 1 MiB: far above any presence or broadcast payload and large enough for a sizeable
   * document sync step, but a tiny fraction of ws's 100 MiB default, which is a memory DoS.
   */
  maxPayloadBytes: 1_048_576,
  /**
   * Time from the upgrade to a successful hello (including `authenticate`). 10 s tolerates a
   * slow token endpoint on a slow phone, and still frees sockets that never speak.
   */
  helloTimeoutMs: 10_000,
  /**
   * 100 frames/s sustained leaves room for a 30 fps cursor, typing and broadcasts at once; a
   * burst of 300 absorbs a reconnect that replays joins and queued updates in one go.
   */
  rateLimit: { framesPerSecond: 100, burst: 300 },
  /**
   * How long a departed connection's presence is held after an unclean drop, so a quick
   * reconnect (`hello.resume`) causes no leave/enter flicker for the others. 5 s covers a
   * network switch or a page reload; longer would keep real ghosts visible.
   */
  presenceGraceMs: 5_000,
  /**
   * Presence coalescing tick. 33 ms (~30 fps) matches the fastest cursor rate senders use, so
   * coalescing never drops a position a receiver could have shown, while still turning many
   * small frames into one message per socket per tick (the ~6x throughput win in ANCHORS).
   */
  presenceTickMs: 33,
  /**
   * The document window: in a busy room, writes wait at most this long to be applied (one Yjs
   * transaction), relayed (one merged update per member) and acked (in the same message). Each
   * window costs one write per member, so its length sets a busy room's fan-out CPU. 33 ms is
   * the presence tick: text arrives at the 30 Hz at which collaborators' cursors already move,
   * each browser applies half the messages it would at 16 ms, and with 50 people typing the
   * server spends about a tenth less CPU (docs/benchmarks.md). A write into a quiet room goes
   * out at once; replies and events are never delayed. 16 halves busy-room latency for that CPU.
   */
  documentFlushMs: 33,
  /**
   * Largest presence object (encoded JSON). 4 KiB fits a name, avatar URL, cursor, selection
   * and a few flags; presence is re-sent to every member on each change, so it must stay small.
   */
  maxPresenceBytes: 4_096,
  /**
   * A room's document stays loaded this long after the last member that used it left. 10 s
   * covers a page reload or a quick navigation (the rejoin reuses the loaded doc with no store
   * read) and outlasts presenceGraceMs (5 s), so a resume after a dropped connection finds the
   * document still loaded; any longer only keeps memory busy for rooms nobody is in.
   */
  documentUnloadDelayMs: 10_000,
} as const

/** The ping interval: a third of the timeout, so two pings can be lost before a peer is dropped. */
export function defaultPingIntervalMs(presenceTimeoutMs: number): number {
  return Math.max(1, Math.floor(presenceTimeoutMs / 3))
}

/** Internal limits: not options, because no legitimate deployment needs another value. */
export const limits = {
  /**
   * A message split into more WebSocket fragments than this is refused (ws closes with 1008).
   * Browsers send one frame per message; 64 allows clients that fragment at 16 KiB to send a
   * full 1 MiB frame, while ws's default (16 384) lets one message cost thousands of buffers.
   */
  maxFragments: 64,
  /** Room names are user-chosen strings; 256 chars fits any sane id and bounds map keys. */
  maxRoomNameLength: 256,
  /** After a close frame is sent, a peer that does not answer within this is terminated. */
  closeGraceMs: 1_000,
  /**
   * Connections remembered for `hello.resume` (anonymous user ids, presence grace). Bounded so
   * a flood of short connections cannot grow memory; oldest entries are forgotten first.
   */
  recentConnections: 10_000,
  /** How long a remembered connection can be resumed. Beyond this a reconnect is a new visit. */
  resumeWindowMs: 5 * 60_000,
  /**
   * A socket whose unsent data exceeds this is a consumer that cannot keep up: it is closed
   * with 1013 instead of letting its send buffer grow without bound in server memory.
   */
  maxBufferedBytes: 8 * 1_048_576,
  /** WebSocket close reasons are limited to 123 bytes of UTF-8 by RFC 6455. */
  maxCloseReasonBytes: 123,
  /**
   * Awareness clients that left a room are remembered (clientID → last clock) so that a stale
   * copy of their state, echoed back by a y-websocket client, cannot bring them back as ghosts.
   * Bounded per room; the oldest are forgotten first.
   */
  awarenessTombstones: 1_024,
  /**
   * Document updates from other servers that arrive while this process is still loading the
   * room's document are held and applied after the load. Beyond this many they are dropped
   * (with a warning), as if the bus had lost them.
   */
  maxUpdatesDuringLoad: 10_000,
} as const
