// Presents a room's presence as a y-protocols Awareness, so editor bindings written for
// y-websocket (y-prosemirror, y-codemirror.next, y-monaco) work unchanged. Presence stays the
// one source of truth on the wire: the local awareness state is sent as presence, and the
// others' presence is written into the Awareness, never sent back (y-websocket re-sends every
// state it receives, which is what saturates it in a busy room).
import { equalityDeep } from 'lib0/function'
import { getUnixTime } from 'lib0/time'
import { Awareness } from 'y-protocols/awareness'
import type * as Y from 'yjs'
import { remoteOrigin } from './docSync'

/** One remote connection as the room knows it. */
export interface RemoteConnection {
  connectionId: string
  presence: unknown
}

/** What the bridge needs from its room. @internal */
export interface AwarenessHost {
  /** Replace the local presence with `presence` (throttled send). */
  setPresence(presence: Record<string, unknown>): void
  /** Whether the room can still take presence updates. */
  isOpen(): boolean
  /** The local awareness state could not become presence (not JSON, too large). */
  onError(error: unknown): void
}

type AwarenessChange = { added: number[]; updated: number[]; removed: number[] }

/**
 * 32-bit FNV-1a of a connection id: the same connection gets the same clientID on every client,
 * so what a binding keys by clientID (cursor colours, decorations) does not jump around.
 */
export function connectionClientId(connectionId: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < connectionId.length; i++) {
    hash ^= connectionId.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return hash >>> 0
}

function asState(presence: unknown): Record<string, unknown> {
  return typeof presence === 'object' && presence !== null && !Array.isArray(presence)
    ? (presence as Record<string, unknown>)
    : {}
}

/** Keeps an Awareness and a room's presence in step, in both directions, without echo. @internal */
export class PresenceAwareness {
  readonly awareness: Awareness
  readonly #host: AwarenessHost
  /** Live remote connections and the clientID each was given. */
  readonly #ids = new Map<string, number>()
  /** Set while this bridge writes into the Awareness, so its own writes are not taken as edits. */
  #writing = false
  #destroyed = false

  readonly #onChange = (change: AwarenessChange, origin: unknown): void => {
    if (this.#writing || this.#destroyed || origin !== 'local') return
    const local = this.awareness.clientID
    const touched =
      change.added.includes(local) ||
      change.updated.includes(local) ||
      change.removed.includes(local)
    if (!touched || !this.#host.isOpen()) return
    // `null` is how y-protocols says "I am gone"; as presence that is an empty object.
    const state = this.awareness.getLocalState() ?? {}
    try {
      this.#host.setPresence({ ...state })
    } catch (error) {
      // Thrown from inside a binding's setLocalStateField would break the editor's update cycle.
      this.#host.onError(error)
    }
  }

  constructor(doc: Y.Doc, host: AwarenessHost, localPresence: Record<string, unknown>) {
    this.#host = host
    this.awareness = new Awareness(doc)
    // Liveness is the server's presence timeout; the Awareness' own 30 s expiry would drop
    // peers that are merely idle and keeps an interval alive that nothing else needs.
    clearInterval(this.awareness._checkInterval)
    this.setLocal(localPresence)
    this.awareness.on('change', this.#onChange)
  }

  /** The room's local presence changed (e.g. `updatePresence`): mirror it as the local state. */
  setLocal(presence: Record<string, unknown>): void {
    if (this.#destroyed) return
    if (equalityDeep(this.awareness.getLocalState(), presence)) return
    this.#write(() => this.awareness.setLocalState({ ...presence }))
  }

  /**
   * The room's remote connections changed: add, update and remove their states, then emit
   * `change` (when something differs) and `update`, as `applyAwarenessUpdate` would, with
   * origin {@link remoteOrigin}.
   */
  setRemote(connections: readonly RemoteConnection[]): void {
    if (this.#destroyed) return
    const { states, meta } = this.awareness
    const local = this.awareness.clientID
    const live = new Set(connections.map((connection) => connection.connectionId))
    const removed: number[] = []
    for (const [connectionId, id] of this.#ids) {
      if (live.has(connectionId)) continue
      this.#ids.delete(connectionId)
      if (states.delete(id)) removed.push(id)
      meta.delete(id)
    }
    const taken = new Set(this.#ids.values())
    const added: number[] = []
    const updated: number[] = []
    const changed: number[] = []
    const now = getUnixTime()
    for (const { connectionId, presence } of connections) {
      let id = this.#ids.get(connectionId)
      if (id === undefined) {
        id = connectionClientId(connectionId)
        // Linear probing keeps ids deterministic for a given set of peers and never lets a peer
        // take the local clientID (bindings skip that one as "me").
        while (id === local || taken.has(id)) id = (id + 1) >>> 0
        this.#ids.set(connectionId, id)
        taken.add(id)
      }
      const state = asState(presence)
      const previous = states.get(id)
      if (previous === state) continue
      states.set(id, state)
      meta.set(id, { clock: (meta.get(id)?.clock ?? -1) + 1, lastUpdated: now })
      if (previous === undefined) {
        added.push(id)
      } else {
        updated.push(id)
        if (!equalityDeep(previous, state)) changed.push(id)
      }
    }
    if (added.length + updated.length + removed.length === 0) return
    if (added.length + changed.length + removed.length > 0) {
      this.awareness.emit('change', [{ added, updated: changed, removed }, remoteOrigin])
    }
    this.awareness.emit('update', [{ added, updated, removed }, remoteOrigin])
  }

  /** Stops mirroring. The Awareness itself is destroyed with its doc. */
  destroy(): void {
    if (this.#destroyed) return
    this.#destroyed = true
    this.awareness.off('change', this.#onChange)
    this.awareness.destroy()
  }

  #write(write: () => void): void {
    this.#writing = true
    try {
      write()
    } finally {
      this.#writing = false
    }
  }
}
