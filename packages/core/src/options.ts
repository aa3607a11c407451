// Validation of everything a user passes in. Mistakes fail at the call with a SynclineError
// that names the option and the accepted values, instead of surfacing later as a socket that
// never connects.
import type { BackoffOptions } from './backoff'
import {
  DEFAULT_BACKOFF,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_HEARTBEAT,
  DEFAULT_LOST_CONNECTION_TIMEOUT_MS,
  DEFAULT_OFFLINE_QUEUE,
  DEFAULT_PRESENCE_THROTTLE_MS,
  MAX_ROOM_NAME_LENGTH,
} from './defaults'
import { type Environment, resolveEnvironment } from './environment'
import { SynclineError } from './errors'

/**
 * The part of the WebSocket API the client uses. Browsers' `WebSocket` and the `ws` package
 * both satisfy it. Handlers take `never` so that any implementation's event type fits.
 */
export interface WebSocketLike {
  readonly readyState: number
  binaryType: string
  send(data: Uint8Array): void
  close(code?: number, reason?: string): void
  onopen: ((event: never) => void) | null
  onmessage: ((event: never) => void) | null
  onclose: ((event: never) => void) | null
  onerror: ((event: never) => void) | null
}

/** A WebSocket constructor: `globalThis.WebSocket`, `ws`, or a test double. */
export type WebSocketConstructor = new (url: string) => WebSocketLike

/** Where to connect: a URL, or a function resolving one before every connection attempt. */
export type UrlOption = string | (() => string | Promise<string>)

/** Options of {@link createClient}. */
export interface ClientOptions {
  /** Server URL (`ws://` / `wss://`), or a function called before every connection attempt. */
  url: UrlOption
  /** Returns the token sent in the `hello` frame; called on every (re)connect. */
  auth?: () => string | Promise<string>
  /** WebSocket implementation; defaults to `globalThis.WebSocket`. In Node pass `ws`. */
  WebSocket?: WebSocketConstructor
  /** Reconnect delays (exponential, full jitter). `random` replaces `Math.random` in tests. */
  backoff?: Partial<BackoffOptions> & { random?: () => number }
  /** ms disconnected before the `lost` event fires. */
  lostConnectionTimeout?: number
  /** Bounds of the queue for room traffic made while disconnected. */
  offlineQueue?: { maxMessages?: number; maxBytes?: number }
  /** Dead-peer detection tuning. */
  heartbeat?: { graceMs?: number; probeTimeoutMs?: number; lateTimerToleranceMs?: number }
  /** ms allowed from opening the socket to receiving `welcome`. */
  handshakeTimeoutMs?: number
  /** Replaces the online / visibility / page lifecycle managers (tests, non-browser runtimes). */
  environment?: Partial<Environment>
  /** Connect at creation (default). With `false`, status stays `idle` until `connect()`. */
  autoConnect?: boolean
  /** Default minimum ms between presence sends of every room. */
  presenceThrottleMs?: number
  /** Wall clock in ms, `Date.now` by default; injectable for tests. */
  now?: () => number
}

/** {@link ClientOptions} after validation, with every default filled in. */
export interface ResolvedClientOptions {
  url: UrlOption
  auth: (() => string | Promise<string>) | undefined
  WebSocket: WebSocketConstructor
  backoff: BackoffOptions
  random: () => number
  lostConnectionTimeout: number
  offlineQueue: { maxMessages: number; maxBytes: number }
  heartbeat: { graceMs: number; probeTimeoutMs: number; lateTimerToleranceMs: number }
  handshakeTimeoutMs: number
  environment: Environment
  autoConnect: boolean
  presenceThrottleMs: number
  now: () => number
}

/** Options of `client.join`. */
export interface JoinOptions<P extends Record<string, unknown> = Record<string, unknown>> {
  /** Initial presence, announced atomically with the join. A plain JSON object. */
  presence?: P
  /** Also sync the room's document. */
  doc?: boolean
  /** Minimum ms between presence sends in this room (default: the client's). */
  presenceThrottleMs?: number
}

function invalid(name: string, expected: string, value: unknown): SynclineError {
  return new SynclineError(
    'invalid_option',
    `Invalid option "${name}": expected ${expected}, got ${show(value)}.`,
    { details: { option: name } },
  )
}

function show(value: unknown): string {
  if (typeof value === 'function') return 'a function'
  if (typeof value === 'string') return JSON.stringify(value)
  if (value === null || typeof value !== 'object') return String(value)
  return Array.isArray(value) ? 'an array' : 'an object'
}

function number(
  name: string,
  value: unknown,
  fallback: number,
  { min = 0, integer = false, exclusiveMin = false } = {},
): number {
  if (value === undefined) return fallback
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (exclusiveMin ? value > min : value >= min) &&
    (!integer || Number.isInteger(value))
  if (!ok) {
    const bound = `${exclusiveMin ? '>' : '>='} ${min}`
    throw invalid(name, `a finite ${integer ? 'integer' : 'number'} ${bound}`, value)
  }
  return value
}

function fn<T>(name: string, value: unknown, expected = 'a function'): T | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'function') throw invalid(name, expected, value)
  return value as T
}

function object(name: string, value: unknown): Record<string, unknown> {
  if (value === undefined) return {}
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalid(name, 'an object', value)
  }
  return value as Record<string, unknown>
}

const urlProtocols = new Set(['ws:', 'wss:', 'http:', 'https:'])

function baseUrl(): string | undefined {
  const location = (globalThis as { location?: { href?: string } }).location
  return typeof location?.href === 'string' ? location.href : undefined
}

/**
 * Checks a URL string the way `new WebSocket(url)` will (relative URLs resolve against the
 * page) and returns it; throws `error(url)` otherwise.
 */
export function checkUrl(url: unknown, error: (value: unknown) => Error): string {
  if (typeof url !== 'string' || url === '') throw error(url)
  let parsed: URL
  try {
    parsed = new URL(url, baseUrl())
  } catch {
    throw error(url)
  }
  if (!urlProtocols.has(parsed.protocol)) throw error(url)
  return url
}

const urlExpected = 'a ws:// or wss:// URL string, or a function returning one'

/** Validates `options` and fills in defaults. Throws {@link SynclineError} `invalid_option`. */
export function resolveClientOptions(options: ClientOptions): ResolvedClientOptions {
  if (options === null || typeof options !== 'object') {
    throw invalid('options', 'an object with at least `url`', options)
  }
  const url: UrlOption =
    typeof options.url === 'function'
      ? options.url
      : checkUrl(options.url, (value) => invalid('url', urlExpected, value))

  const backoffInput = object('backoff', options.backoff)
  const backoff: BackoffOptions = {
    initialDelayMs: number(
      'backoff.initialDelayMs',
      backoffInput.initialDelayMs,
      DEFAULT_BACKOFF.initialDelayMs,
    ),
    maxDelayMs: number('backoff.maxDelayMs', backoffInput.maxDelayMs, DEFAULT_BACKOFF.maxDelayMs),
    multiplier: number('backoff.multiplier', backoffInput.multiplier, DEFAULT_BACKOFF.multiplier, {
      min: 1,
    }),
  }
  if (backoff.maxDelayMs < backoff.initialDelayMs) {
    throw invalid(
      'backoff.maxDelayMs',
      `a number >= backoff.initialDelayMs (${backoff.initialDelayMs})`,
      backoff.maxDelayMs,
    )
  }

  const queueInput = object('offlineQueue', options.offlineQueue)
  const heartbeatInput = object('heartbeat', options.heartbeat)

  const WebSocketImpl = fn<WebSocketConstructor>(
    'WebSocket',
    options.WebSocket,
    'a WebSocket constructor (e.g. `ws` in Node)',
  )
  const globalWebSocket = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket
  const WebSocket = WebSocketImpl ?? globalWebSocket
  if (!WebSocket) {
    throw new SynclineError(
      'no_websocket',
      'No WebSocket implementation found: pass the `WebSocket` option. In Node, install `ws` and ' +
        "pass it: createClient({ url, WebSocket: (await import('ws')).WebSocket }).",
    )
  }

  const autoConnect = options.autoConnect ?? true
  if (typeof autoConnect !== 'boolean') throw invalid('autoConnect', 'true or false', autoConnect)

  const environment = object('environment', options.environment)
  for (const key of ['online', 'visibility', 'page'] as const) {
    const manager = environment[key] as { subscribe?: unknown } | undefined
    if (manager !== undefined && typeof manager?.subscribe !== 'function') {
      throw invalid(`environment.${key}`, 'a manager (see createEnvironment())', manager)
    }
  }

  return {
    url,
    auth: fn('auth', options.auth, 'a function returning a token (string or Promise<string>)'),
    WebSocket,
    backoff,
    random: fn('backoff.random', backoffInput.random) ?? Math.random,
    lostConnectionTimeout: number(
      'lostConnectionTimeout',
      options.lostConnectionTimeout,
      DEFAULT_LOST_CONNECTION_TIMEOUT_MS,
    ),
    offlineQueue: {
      maxMessages: number(
        'offlineQueue.maxMessages',
        queueInput.maxMessages,
        DEFAULT_OFFLINE_QUEUE.maxMessages,
        { integer: true },
      ),
      maxBytes: number(
        'offlineQueue.maxBytes',
        queueInput.maxBytes,
        DEFAULT_OFFLINE_QUEUE.maxBytes,
      ),
    },
    heartbeat: {
      graceMs: number('heartbeat.graceMs', heartbeatInput.graceMs, DEFAULT_HEARTBEAT.graceMs),
      probeTimeoutMs: number(
        'heartbeat.probeTimeoutMs',
        heartbeatInput.probeTimeoutMs,
        DEFAULT_HEARTBEAT.probeTimeoutMs,
        { exclusiveMin: true },
      ),
      lateTimerToleranceMs: number(
        'heartbeat.lateTimerToleranceMs',
        heartbeatInput.lateTimerToleranceMs,
        DEFAULT_HEARTBEAT.lateTimerToleranceMs,
      ),
    },
    handshakeTimeoutMs: number(
      'handshakeTimeoutMs',
      options.handshakeTimeoutMs,
      DEFAULT_HANDSHAKE_TIMEOUT_MS,
      { exclusiveMin: true },
    ),
    environment: resolveEnvironment(environment as Partial<Environment>),
    autoConnect,
    presenceThrottleMs: presenceThrottle('presenceThrottleMs', options.presenceThrottleMs),
    now: fn('now', options.now) ?? Date.now,
  }
}

/** Validates a presence throttle (ms between sends). */
export function presenceThrottle(name: string, value: unknown, fallback?: number): number {
  return number(name, value, fallback ?? DEFAULT_PRESENCE_THROTTLE_MS)
}

/** Whether `value` is a plain object that survives a JSON round trip unchanged in shape. */
export function isPlainJsonObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/**
 * Serializes a user payload, or throws `invalid_argument` naming `what` when it is not JSON
 * (cycles, BigInt, functions, undefined).
 */
export function toJson(what: string, value: unknown): string {
  let json: string | undefined
  try {
    json = JSON.stringify(value)
  } catch (error) {
    throw new SynclineError(
      'invalid_argument',
      `${what} must be JSON-serializable: ${error instanceof Error ? error.message : String(error)}.`,
      { cause: error },
    )
  }
  if (json === undefined) {
    throw new SynclineError(
      'invalid_argument',
      `${what} must be JSON-serializable (null, boolean, number, string, array or plain object), got ${show(value)}.`,
    )
  }
  return json
}

/** Validates a room name; returns it. */
export function checkRoomName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_ROOM_NAME_LENGTH) {
    throw new SynclineError(
      'invalid_argument',
      `Invalid room name: expected a non-empty string of at most ${MAX_ROOM_NAME_LENGTH} characters, got ${show(name)}.`,
    )
  }
  return name
}

/** Validates presence: a plain JSON object. Returns it. */
export function checkPresence(what: string, value: unknown): Record<string, unknown> {
  if (!isPlainJsonObject(value)) {
    throw invalid(what, 'a plain JSON object such as { name: "Ada", cursor: null }', value)
  }
  toJson(what, value)
  return value
}

/** Validates the options of `client.join`. */
export function resolveJoinOptions(
  options: JoinOptions | undefined,
  defaultThrottleMs: number,
): { presence: Record<string, unknown> | undefined; doc: boolean; presenceThrottleMs: number } {
  const input = object('join options', options)
  const presence =
    input.presence === undefined ? undefined : checkPresence('presence', input.presence)
  if (input.doc !== undefined && typeof input.doc !== 'boolean') {
    throw invalid('doc', 'true or false', input.doc)
  }
  return {
    presence,
    doc: input.doc === true,
    presenceThrottleMs: presenceThrottle(
      'presenceThrottleMs',
      input.presenceThrottleMs,
      defaultThrottleMs,
    ),
  }
}
