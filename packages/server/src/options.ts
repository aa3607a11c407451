// What createServer accepts, and the one function that checks it. Options are validated up
// front with messages that name the option and the accepted values, so a typo fails at start
// instead of silently disabling (say) the Origin check.
import type { IncomingHttpHeaders } from 'node:http'
import type { Bus } from './bus'
import { defaultPingIntervalMs, defaults } from './defaults'
import { DOCUMENT_PERSISTENCE_DEFAULTS } from './documentPersistence'
import type { DocumentStore } from './documentStore'

/** Where `authenticate` is being called from. */
export type AuthenticatePhase = 'upgrade' | 'hello'

/** What `authenticate` receives. */
export interface AuthenticateRequest {
  /**
   * At `phase: 'upgrade'`: the `Authorization: Bearer` token of the HTTP request, if any.
   * At `phase: 'hello'`: the token of the hello frame (from the client's `auth` provider).
   */
  token?: string
  /** Headers of the HTTP upgrade request (cookies, forwarded-for, …). */
  headers: IncomingHttpHeaders
  /** The `Origin` header, when the client sent one (browsers always do). */
  origin?: string
  /** `'upgrade'` when credentials came with the HTTP request, `'hello'` for the hello frame. */
  phase: AuthenticatePhase
}

/** A member's access to a room: read and write, read only, or no entry. */
export type RoomAccess = 'write' | 'read' | false

/** An authenticated user, as returned by `authenticate`. */
export interface AuthenticatedUser {
  /** Stable id of the user; several connections (tabs) of one user share it. */
  userId: string
  /**
   * Access to `room`, checked on every join. Absent means `'write'` everywhere.
   * Throwing denies the join with code `'error'`.
   */
  rooms?: (room: string) => RoomAccess | Promise<RoomAccess>
}

/**
 * Decides who a connection is. Return a user to accept, `null` (or throw) to refuse.
 * See {@link ServerOptions.authenticate} for when it is called.
 */
export type Authenticate = (
  request: AuthenticateRequest,
) => AuthenticatedUser | null | Promise<AuthenticatedUser | null>

/** Per-connection token bucket. */
export interface RateLimitOptions {
  /** Frames per second a connection may send sustained. Default 100. */
  framesPerSecond?: number
  /** Frames a connection may send at once after being idle. Default 300. */
  burst?: number
}

/**
 * How each room's document is written to the {@link ServerOptions.store}: updates are batched
 * (debounce with a maximum wait), merged into one append per batch, and the log is compacted
 * into a snapshot when it grows. Defaults: `DOCUMENT_PERSISTENCE_DEFAULTS`.
 */
export interface PersistenceOptions {
  /** Quiet time after the last update before a batch is saved. Default 500 ms. */
  debounceMs?: number
  /** Longest an update waits before being saved, however busy the room. Default 5 000 ms. */
  maxWaitMs?: number
  /** Compact when the log holds this many entries after the snapshot. Default 200. */
  compactAfterUpdates?: number
  /** Compact when the log's entries after the snapshot weigh this many bytes. Default 1 MiB. */
  compactAfterBytes?: number
  /** Delay before retrying a failed save; doubles per failure. Default 1 000 ms. */
  retryDelayMs?: number
  /** Cap of the retry delay. Default 30 000 ms. */
  maxRetryDelayMs?: number
}

/** Where the server reports problems it handled but an operator should know about. */
export interface Logger {
  warn(message: string, context?: unknown): void
  error(message: string, context?: unknown): void
}

/** Options of {@link createServer}. Every field is optional. */
export interface ServerOptions {
  /** TCP port; 0 picks a free one (read it from `server.port` after `listen()`). Default 4321. */
  port?: number
  /** Interface to bind. Default `'0.0.0.0'`. */
  host?: string
  /**
   * Decides who a connection is. Without it every connection is anonymous
   * (`userId` = `anon-<random>`, kept across a `hello.resume`).
   *
   * - If the HTTP upgrade carries credentials (an `Authorization: Bearer` header or a `Cookie`
   *   header), it is called with `phase: 'upgrade'` before the WebSocket exists: throwing
   *   answers HTTP 401 and no socket is opened; returning a user authenticates the connection
   *   (the hello token is then not checked); returning `null` defers to the hello frame.
   * - Otherwise (or after `null`), it is called with `phase: 'hello'` and the hello frame's
   *   token: throwing or returning `null` closes the socket with 4401. The thrown error's
   *   message becomes the close reason, so it must not contain secrets.
   *
   * No room data flows before it has accepted the connection.
   */
  authenticate?: Authenticate
  /**
   * Origins (`scheme://host[:port]`) allowed to open a WebSocket. A request whose `Origin`
   * header is present and not listed gets HTTP 403 (cross-site WebSocket hijacking defence).
   * Requests without `Origin` (non-browser clients) are allowed. Default: any origin.
   */
  allowedOrigins?: string[]
  /**
   * Carries room traffic between server processes. Default: none — a single process has nobody
   * to tell, so room traffic is not published at all (pass one `createInProcessBus()` to several
   * servers of one process to connect them).
   */
  bus?: Bus
  /** A connection silent this long (no frame, no pong) is closed with 4408. Default 30 000. */
  presenceTimeoutMs?: number
  /** How often the server pings each connection. Default presenceTimeoutMs / 3. */
  pingIntervalMs?: number
  /** Time allowed from the upgrade to an accepted hello. Default 10 000. */
  helloTimeoutMs?: number
  /** Largest WebSocket message accepted; larger ones close the socket with 1009. Default 1 MiB. */
  maxPayloadBytes?: number
  /** Per-connection frame rate limit; exceeding it closes with 4429. */
  rateLimit?: RateLimitOptions
  /** Presence of an uncleanly dropped connection is held this long for a resume. Default 5 000. */
  presenceGraceMs?: number
  /** Presence changes are coalesced and sent once per tick. Default 33. */
  presenceTickMs?: number
  /**
   * The document window, in ms. A write into a room quiet for this long is applied, acked and
   * relayed at once; in a busy room a window opens with its first write and ends this long
   * after, applying its writes as one Yjs transaction and sending each member one merged update
   * (with its acks), so a busy room costs one frame per member per window. 0: each timer turn's
   * writes together, at once. Default 16.
   */
  documentFlushMs?: number
  /** Largest presence object, in bytes of JSON. Default 4 096. */
  maxPresenceBytes?: number
  /** Receives warnings and errors the server handled. Default: `console`. */
  logger?: Logger
  /**
   * Where rooms' documents are stored. Default: a new in-memory store (`createMemoryStore()`),
   * which lives as long as the server; pass `@syncline/sqlite`'s store (or your own
   * {@link DocumentStore}) to keep documents across restarts. A document is loaded from the
   * store before the first sync answer; when loading fails the join is refused (`load_failed`)
   * and nothing is written, so a stored document is never overwritten by an empty one.
   * `close()` flushes every room's pending writes; it closes the store only if the server
   * created it (a store you pass in is yours to close, and may be shared).
   */
  store?: DocumentStore
  /** Batching and compaction of document writes. */
  persistence?: PersistenceOptions
  /**
   * A room's document stays loaded this long after the last member using it left, so a
   * quick rejoin reuses it. Default 10 000.
   */
  documentUnloadDelayMs?: number
}

/** Options with every default applied; what the rest of the server reads. */
export interface ResolvedOptions {
  port: number
  host: string
  authenticate: Authenticate | undefined
  allowedOrigins: ReadonlySet<string> | undefined
  bus: Bus | undefined
  presenceTimeoutMs: number
  pingIntervalMs: number
  helloTimeoutMs: number
  maxPayloadBytes: number
  rateLimit: { framesPerSecond: number; burst: number }
  presenceGraceMs: number
  presenceTickMs: number
  documentFlushMs: number
  maxPresenceBytes: number
  logger: Logger
  store: DocumentStore | undefined
  persistence: Required<PersistenceOptions>
  documentUnloadDelayMs: number
}

const knownOptions: ReadonlySet<string> = new Set<keyof ServerOptions>([
  'port',
  'host',
  'authenticate',
  'allowedOrigins',
  'bus',
  'presenceTimeoutMs',
  'pingIntervalMs',
  'helloTimeoutMs',
  'maxPayloadBytes',
  'rateLimit',
  'presenceGraceMs',
  'presenceTickMs',
  'documentFlushMs',
  'maxPresenceBytes',
  'logger',
  'store',
  'persistence',
  'documentUnloadDelayMs',
])

function invalid(name: string, expected: string, got: unknown): Error {
  const shown = typeof got === 'string' ? JSON.stringify(got) : String(got)
  return new Error(`createServer: "${name}" must be ${expected}, got ${shown}`)
}

/**
 * A positive integer and its upper bound (`[name, value, fallback]` each). An unset bound
 * defaults to at least the lower value, so raising only the lower one stays valid.
 */
function boundPair(
  lower: [string, unknown, number],
  upper: [string, unknown, number],
): [number, number] {
  const low = positiveInteger(...lower)
  const high = positiveInteger(upper[0], upper[1], Math.max(upper[2], low))
  if (high < low) {
    throw invalid(upper[0], `a positive integer at least ${lower[0]} (${low})`, high)
  }
  return [low, high]
}

function positiveInteger(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw invalid(name, 'a positive integer', value)
  }
  return value
}

function positiveNumber(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw invalid(name, 'a positive number', value)
  }
  return value
}

function resolvePort(value: unknown): number {
  if (value === undefined) return defaults.port
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 65_535) {
    throw invalid('port', 'an integer from 0 to 65535', value)
  }
  return value
}

function resolveHost(value: unknown): string {
  if (value === undefined) return defaults.host
  if (typeof value !== 'string' || value === '') {
    throw invalid('host', 'a non-empty string such as "127.0.0.1" or "0.0.0.0"', value)
  }
  return value
}

/** Normalises each entry to `scheme://host[:port]`, the form browsers send in `Origin`. */
function resolveOrigins(value: unknown): ReadonlySet<string> | undefined {
  if (value === undefined) return undefined
  if (!Array.isArray(value)) {
    throw invalid('allowedOrigins', 'an array of origins like "https://app.example.com"', value)
  }
  const origins = new Set<string>()
  for (const entry of value) {
    let origin: string | undefined
    try {
      origin = typeof entry === 'string' ? new URL(entry).origin : undefined
    } catch {
      origin = undefined
    }
    if (origin === undefined || origin === 'null') {
      throw invalid(
        'allowedOrigins',
        'an array of origins like "https://app.example.com" (scheme://host[:port])',
        entry,
      )
    }
    origins.add(origin)
  }
  return origins
}

function resolveBus(value: unknown): Bus | undefined {
  if (value === undefined) return undefined
  const bus = value as Partial<Bus> | null
  if (
    typeof bus !== 'object' ||
    bus === null ||
    typeof bus.publish !== 'function' ||
    typeof bus.subscribe !== 'function' ||
    typeof bus.close !== 'function'
  ) {
    throw invalid('bus', 'an object with publish, subscribe and close methods', value)
  }
  return bus as Bus
}

function resolveLogger(value: unknown): Logger {
  if (value === undefined) return console
  const logger = value as Partial<Logger> | null
  if (
    typeof logger !== 'object' ||
    logger === null ||
    typeof logger.warn !== 'function' ||
    typeof logger.error !== 'function'
  ) {
    throw invalid('logger', 'an object with warn and error methods', value)
  }
  return logger as Logger
}

function resolveStore(value: unknown): DocumentStore | undefined {
  if (value === undefined) return undefined
  const store = value as Partial<DocumentStore> | null
  if (
    typeof store !== 'object' ||
    store === null ||
    typeof store.load !== 'function' ||
    typeof store.append !== 'function' ||
    typeof store.compact !== 'function' ||
    typeof store.delete !== 'function' ||
    typeof store.close !== 'function'
  ) {
    throw invalid(
      'store',
      'a DocumentStore (load, append, compact, delete and close methods)',
      value,
    )
  }
  return store as DocumentStore
}

const persistenceKeys: ReadonlySet<string> = new Set<keyof PersistenceOptions>([
  'debounceMs',
  'maxWaitMs',
  'compactAfterUpdates',
  'compactAfterBytes',
  'retryDelayMs',
  'maxRetryDelayMs',
])

function resolvePersistence(value: unknown): Required<PersistenceOptions> {
  const fallback = DOCUMENT_PERSISTENCE_DEFAULTS
  if (value === undefined) value = {}
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(
      'persistence',
      'an object { debounceMs?, maxWaitMs?, compactAfterUpdates?, compactAfterBytes?, retryDelayMs?, maxRetryDelayMs? }',
      value,
    )
  }
  for (const key of Object.keys(value)) {
    if (!persistenceKeys.has(key)) {
      throw new Error(
        `createServer: unknown option "persistence.${key}"; known ones are ${[...persistenceKeys].join(', ')}`,
      )
    }
  }
  const options = value as PersistenceOptions
  const [debounceMs, maxWaitMs] = boundPair(
    ['persistence.debounceMs', options.debounceMs, fallback.debounceMs],
    ['persistence.maxWaitMs', options.maxWaitMs, fallback.maxWaitMs],
  )
  const [retryDelayMs, maxRetryDelayMs] = boundPair(
    ['persistence.retryDelayMs', options.retryDelayMs, fallback.retryDelayMs],
    ['persistence.maxRetryDelayMs', options.maxRetryDelayMs, fallback.maxRetryDelayMs],
  )
  return {
    debounceMs,
    maxWaitMs,
    compactAfterUpdates: positiveInteger(
      'persistence.compactAfterUpdates',
      options.compactAfterUpdates,
      fallback.compactAfterUpdates,
    ),
    compactAfterBytes: positiveInteger(
      'persistence.compactAfterBytes',
      options.compactAfterBytes,
      fallback.compactAfterBytes,
    ),
    retryDelayMs,
    maxRetryDelayMs,
  }
}

function nonNegativeInteger(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalid(name, 'a non-negative integer', value)
  }
  return value
}

function resolveRateLimit(value: unknown): ResolvedOptions['rateLimit'] {
  if (value === undefined) return { ...defaults.rateLimit }
  if (typeof value !== 'object' || value === null) {
    throw invalid('rateLimit', 'an object { framesPerSecond?, burst? }', value)
  }
  const { framesPerSecond, burst } = value as RateLimitOptions
  return {
    framesPerSecond: positiveNumber(
      'rateLimit.framesPerSecond',
      framesPerSecond,
      defaults.rateLimit.framesPerSecond,
    ),
    burst: positiveInteger('rateLimit.burst', burst, defaults.rateLimit.burst),
  }
}

/**
 * Applies defaults and validates `options`. Throws an Error naming the offending option and
 * the accepted values; unknown option names are refused too, so a misspelt security option
 * cannot be silently ignored.
 */
export function resolveOptions(options: ServerOptions = {}): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new Error(`createServer: options must be an object, got ${String(options)}`)
  }
  for (const key of Object.keys(options)) {
    if (!knownOptions.has(key)) {
      throw new Error(
        `createServer: unknown option "${key}"; known options are ${[...knownOptions].join(', ')}`,
      )
    }
  }
  if (options.authenticate !== undefined && typeof options.authenticate !== 'function') {
    throw invalid('authenticate', 'a function', options.authenticate)
  }
  const presenceTimeoutMs = positiveInteger(
    'presenceTimeoutMs',
    options.presenceTimeoutMs,
    defaults.presenceTimeoutMs,
  )
  const pingIntervalMs = positiveInteger(
    'pingIntervalMs',
    options.pingIntervalMs,
    defaultPingIntervalMs(presenceTimeoutMs),
  )
  if (pingIntervalMs >= presenceTimeoutMs) {
    throw invalid(
      'pingIntervalMs',
      `a positive integer below presenceTimeoutMs (${presenceTimeoutMs})`,
      pingIntervalMs,
    )
  }
  return {
    port: resolvePort(options.port),
    host: resolveHost(options.host),
    authenticate: options.authenticate,
    allowedOrigins: resolveOrigins(options.allowedOrigins),
    bus: resolveBus(options.bus),
    presenceTimeoutMs,
    pingIntervalMs,
    helloTimeoutMs: positiveInteger(
      'helloTimeoutMs',
      options.helloTimeoutMs,
      defaults.helloTimeoutMs,
    ),
    maxPayloadBytes: positiveInteger(
      'maxPayloadBytes',
      options.maxPayloadBytes,
      defaults.maxPayloadBytes,
    ),
    rateLimit: resolveRateLimit(options.rateLimit),
    presenceGraceMs: positiveInteger(
      'presenceGraceMs',
      options.presenceGraceMs,
      defaults.presenceGraceMs,
    ),
    presenceTickMs: positiveInteger(
      'presenceTickMs',
      options.presenceTickMs,
      defaults.presenceTickMs,
    ),
    documentFlushMs: nonNegativeInteger(
      'documentFlushMs',
      options.documentFlushMs,
      defaults.documentFlushMs,
    ),
    maxPresenceBytes: positiveInteger(
      'maxPresenceBytes',
      options.maxPresenceBytes,
      defaults.maxPresenceBytes,
    ),
    logger: resolveLogger(options.logger),
    store: resolveStore(options.store),
    persistence: resolvePersistence(options.persistence),
    documentUnloadDelayMs: nonNegativeInteger(
      'documentUnloadDelayMs',
      options.documentUnloadDelayMs,
      defaults.documentUnloadDelayMs,
    ),
  }
}
