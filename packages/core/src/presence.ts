// Presence as a pure reducer over the server's snapshot + sequence-numbered diffs, and the
// derivation of `self` / `others` (one entry per user, that user's connections grouped). Pure
// so that a property test can throw shuffled, duplicated frames at it: a diff is applied only
// on the exact state it was computed against (phoenix#2255), never on a wrong base.
import type { PresenceDiffFrame, PresenceEntry, PresenceSnapshotFrame } from '@syncline/protocol'
import { computed, type ReadableAtom } from 'nanostores'

/** One connection of a user, with that connection's presence. */
export interface PeerConnection<P = Record<string, unknown>> {
  connectionId: string
  presence: P
}

/** A user in a room: every connection (tab, device) of theirs, grouped. */
export interface Peer<P = Record<string, unknown>> {
  userId: string
  /** The presence of the connection updated most recently. */
  presence: P
  connections: PeerConnection<P>[]
}

/** One connection as the reducer keeps it. */
export interface ConnectionState {
  connectionId: string
  userId: string
  presence: unknown
  /** Order of first appearance: keeps lists stable instead of jumping on every update. */
  seen: number
  /** Order of the last update: the freshest connection speaks for its user. */
  updated: number
}

/** The reducer's state for one room on one connection. */
export interface PresenceState {
  /** Sequence number of the last applied snapshot or diff; null before the first snapshot. */
  seq: number | null
  connections: ReadonlyMap<string, ConnectionState>
  /** Monotonic counter behind `seen` / `updated`. */
  clock: number
  /** A gap was seen and a resync requested: further gaps need no new request. */
  resyncRequested: boolean
}

/** What applying a frame did. */
export type PresenceOutcome =
  /** The frame changed (or confirmed) the state. */
  | 'applied'
  /** Duplicate, stale, or before any snapshot: ignored, nothing to do. */
  | 'ignored'
  /** A diff skipped a number: ignored; ask the server for a snapshot (`presenceResync`). */
  | 'resync'
  /** A gap while a resync is already requested: ignored, wait for the snapshot. */
  | 'waiting'

/** The state before any snapshot. */
export function initialPresenceState(): PresenceState {
  return { seq: null, connections: new Map(), clock: 0, resyncRequested: false }
}

/**
 * A fresh state for a new join on a new connection that remembers first-seen order, so a
 * rejoin does not reshuffle the list.
 */
export function resetPresenceState(state: PresenceState): PresenceState {
  return { ...state, seq: null, resyncRequested: false }
}

function setEntry(
  connections: Map<string, ConnectionState>,
  previous: ReadonlyMap<string, ConnectionState>,
  entry: PresenceEntry,
  clock: number,
): void {
  const known = previous.get(entry.connectionId) ?? connections.get(entry.connectionId)
  // Unchanged presence (same JSON, e.g. in a resync snapshot) keeps its object and its update
  // order: subscribers see no change, and a snapshot is not activity.
  const unchanged = known !== undefined && jsonEqual(known.presence, entry.presence)
  connections.set(entry.connectionId, {
    connectionId: entry.connectionId,
    userId: entry.userId,
    presence: unchanged ? known.presence : entry.presence,
    seen: known?.seen ?? clock,
    updated: unchanged ? known.updated : clock,
  })
}

/**
 * Replaces the state with a snapshot. A snapshot older than the applied state is stale (it was
 * overtaken) and ignored.
 */
export function applySnapshot(
  state: PresenceState,
  frame: Pick<PresenceSnapshotFrame, 'seq' | 'entries'>,
): { state: PresenceState; outcome: PresenceOutcome } {
  if (state.seq !== null && frame.seq < state.seq) return { state, outcome: 'ignored' }
  let clock = state.clock
  const connections = new Map<string, ConnectionState>()
  for (const entry of frame.entries) setEntry(connections, state.connections, entry, ++clock)
  return {
    state: { seq: frame.seq, connections, clock, resyncRequested: false },
    outcome: 'applied',
  }
}

/** Applies a diff if, and only if, it follows the applied state exactly (seq = last + 1). */
export function applyDiff(
  state: PresenceState,
  frame: Pick<PresenceDiffFrame, 'seq' | 'changes'>,
): { state: PresenceState; outcome: PresenceOutcome } {
  if (state.seq === null || frame.seq <= state.seq) return { state, outcome: 'ignored' }
  if (frame.seq !== state.seq + 1) {
    if (state.resyncRequested) return { state, outcome: 'waiting' }
    return { state: { ...state, resyncRequested: true }, outcome: 'resync' }
  }
  let clock = state.clock
  const connections = new Map(state.connections)
  for (const change of frame.changes) {
    if (change.op === 'remove') connections.delete(change.connectionId)
    else setEntry(connections, new Map(), change, ++clock)
  }
  return {
    state: { seq: frame.seq, connections, clock, resyncRequested: state.resyncRequested },
    outcome: 'applied',
  }
}

function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true
  return JSON.stringify(a) === JSON.stringify(b)
}

/** Groups connections by user, users and connections in first-seen order. */
export function groupPeers<P>(connections: Iterable<ConnectionState>): Peer<P>[] {
  const byUser = new Map<string, ConnectionState[]>()
  const sorted = [...connections].sort((a, b) => a.seen - b.seen)
  for (const connection of sorted) {
    const list = byUser.get(connection.userId)
    if (list) list.push(connection)
    else byUser.set(connection.userId, [connection])
  }
  return [...byUser].map(([userId, list]) => {
    const freshest = list.reduce((a, b) => (b.updated > a.updated ? b : a))
    return {
      userId,
      presence: freshest.presence as P,
      connections: list.map((c) => ({ connectionId: c.connectionId, presence: c.presence as P })),
    }
  })
}

function samePeer<P>(a: Peer<P>, b: Peer<P>): boolean {
  if (a.userId !== b.userId || a.presence !== b.presence) return false
  if (a.connections.length !== b.connections.length) return false
  return a.connections.every((connection, i) => {
    const other = b.connections[i]!
    return connection.connectionId === other.connectionId && connection.presence === other.presence
  })
}

/**
 * Reuses `previous` objects wherever nothing changed, and `previous` itself when no peer
 * changed: subscribers (React memo, selectors) then see identity-stable values.
 */
export function stabilizePeers<P>(previous: readonly Peer<P>[], next: Peer<P>[]): Peer<P>[] {
  const old = new Map(previous.map((peer) => [peer.userId, peer]))
  let changed = previous.length !== next.length
  const result = next.map((peer, i) => {
    const before = old.get(peer.userId)
    if (before && samePeer(before, peer)) {
      if (previous[i] !== before) changed = true
      return before
    }
    changed = true
    return peer
  })
  return changed ? result : (previous as Peer<P>[])
}

/**
 * The others of a room, excluding every connection of `ownUserId` (your other tabs are you,
 * not someone else: liveblocks#2344).
 */
export function othersOf<P>(state: PresenceState, ownUserId: string | null): Peer<P>[] {
  return groupPeers<P>(
    [...state.connections.values()].filter((connection) => connection.userId !== ownUserId),
  )
}

/**
 * The local user: this connection's presence (as set locally, ahead of the server) and every
 * connection of the same user the server knows about.
 */
export function selfOf<P>(
  state: PresenceState,
  ownUserId: string | null,
  ownConnectionId: string | null,
  localPresence: P,
): Peer<P> {
  const own = [...state.connections.values()]
    .filter((connection) => connection.userId === ownUserId)
    .sort((a, b) => a.seen - b.seen)
  const connections: PeerConnection<P>[] = own.map((connection) => ({
    connectionId: connection.connectionId,
    presence:
      connection.connectionId === ownConnectionId ? localPresence : (connection.presence as P),
  }))
  if (ownConnectionId !== null && !own.some((c) => c.connectionId === ownConnectionId)) {
    connections.push({ connectionId: ownConnectionId, presence: localPresence })
  }
  return { userId: ownUserId ?? '', presence: localPresence, connections }
}

/** Equality on one level: same keys with identical values (arrays: same items). */
export function shallow(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  const keysA = Object.keys(a)
  if (keysA.length !== Object.keys(b).length) return false
  return keysA.every(
    (key) =>
      Object.hasOwn(b, key) &&
      Object.is((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]),
  )
}

/**
 * A store of a slice of `room.others` that changes only when the slice does (by `isEqual`,
 * `shallow` by default): components re-render for the data they show, not for every cursor move.
 *
 * @example
 * const $names = selectOthers(room, (others) => others.map((peer) => peer.presence.name))
 */
export function selectOthers<P, T>(
  room: { others: ReadableAtom<Peer<P>[]> },
  selector: (others: Peer<P>[]) => T,
  isEqual: (a: T, b: T) => boolean = shallow,
): ReadableAtom<T> {
  const $selected = computed(room.others, selector)
  $selected.eq = isEqual as typeof $selected.eq
  return $selected
}
