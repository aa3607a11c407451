// Translates between a room's presence (one entry per connection, per-room diffs) and y-protocols
// awareness (one state per numeric clientID, newest clock wins) for the y-websocket members of
// the room. Stock clients' awareness clients become presence entries; every other presence entry
// (native connections, other servers) is shown to stock clients under a stable synthetic clientID.
import { randomInt } from 'node:crypto'
import type { PresenceChange } from '@syncline/protocol'
import { type AwarenessEntry, encodeAwarenessUpdate } from './awarenessUpdate'
import { limits } from './defaults'
import type { PresenceRecord } from './presence'
import type { Membership, PresenceValue } from './room'
import { encodeYjsAwareness } from './yjsMessage'

/**
 * Synthetic clientIDs start here. Yjs clientIDs are random uint32s, so synthetic ones never
 * collide with a real client, and a stock client echoing one back is recognised at once. They
 * are random per room (not a counter), so a client that still remembers a clock for an ID from
 * an earlier server run cannot mistake a new entry for a stale one.
 */
const syntheticBase = 2 ** 32

/** An awareness entry from a stock client, its state already validated as presence. */
export interface ReceivedAwareness {
  clientID: number
  clock: number
  /** `null`: the client is gone. */
  presence: PresenceValue | null
}

/** What the room must do to its presence after {@link AwarenessBridge.receive}. */
export type AwarenessChange =
  | { op: 'set'; recordId: string; presence: PresenceValue }
  | { op: 'remove'; recordId: string }

interface Mapping {
  clientID: number
  clock: number
  /** The stock member whose awareness client this is; undefined for synthetic entries. */
  owner: Membership | undefined
}

/** Encoded awareness for each y-websocket recipient (a client is never sent its own entries). */
export type AwarenessForRecipient = (recipient: Membership) => Uint8Array | undefined

/** The awareness side of one room, alive while the room has y-websocket members. No timers. */
export class AwarenessBridge {
  /** Presence record id → awareness identity. */
  readonly #byRecord = new Map<string, Mapping>()
  /** Real clientIDs currently owned by a stock member → record id. */
  readonly #owned = new Map<number, string>()
  /** Real clientIDs that left → their last clock (stale echoes must not resurrect them). */
  readonly #tombstones = new Map<number, number>()

  /**
   * Takes the awareness entries `owner` sent and returns the presence changes they make. A
   * connection owns the clientIDs it announced first; entries for anyone else's clientID (a
   * y-websocket client re-sends every awareness update it receives) are ignored, as are stale
   * clocks and removals of clients it does not own.
   */
  receive(owner: Membership, entries: readonly ReceivedAwareness[]): AwarenessChange[] {
    const changes: AwarenessChange[] = []
    for (const { clientID, clock, presence } of entries) {
      const recordId = this.#owned.get(clientID)
      if (recordId !== undefined) {
        const mapping = this.#byRecord.get(recordId)
        if (mapping?.owner !== owner || clock <= mapping.clock) continue
        mapping.clock = clock
        if (presence === null) {
          this.#owned.delete(clientID)
          this.#tombstone(clientID, clock)
          changes.push({ op: 'remove', recordId })
        } else {
          changes.push({ op: 'set', recordId, presence })
        }
        continue
      }
      if (presence === null || clientID >= syntheticBase) continue
      const tombstone = this.#tombstones.get(clientID)
      if (tombstone !== undefined && clock <= tombstone) continue
      this.#tombstones.delete(clientID)
      const id = `${owner.peer.connectionId}:${clientID}`
      this.#owned.set(clientID, id)
      this.#byRecord.set(id, { clientID, clock, owner })
      changes.push({ op: 'set', recordId: id, presence })
    }
    return changes
  }

  /** `owner` left: returns the record ids of its awareness clients, which must be removed. */
  release(owner: Membership): string[] {
    const recordIds: string[] = []
    for (const [clientID, recordId] of this.#owned) {
      const mapping = this.#byRecord.get(recordId)
      if (mapping?.owner !== owner) continue
      // Others hold the state at `clock`: the removal must be newer to win.
      mapping.clock += 1
      this.#owned.delete(clientID)
      this.#tombstone(clientID, mapping.clock)
      recordIds.push(recordId)
    }
    return recordIds
  }

  /**
   * Encodes one tick's presence changes as awareness (once, plus a variant for a recipient whose
   * own entries are among them). Synthetic entries get a newer clock on every change; a removal
   * is sent as a `null` state.
   */
  encodeChanges(changes: readonly PresenceChange[]): AwarenessForRecipient {
    const entries: Array<{ entry: AwarenessEntry; owner: Membership | undefined }> = []
    for (const change of changes) {
      if (change.op === 'set') {
        const mapping = this.#mapping(change.connectionId)
        if (mapping.owner === undefined) mapping.clock += 1
        const entry = { clientID: mapping.clientID, clock: mapping.clock, state: change.presence }
        entries.push({ entry, owner: mapping.owner })
        continue
      }
      const mapping = this.#byRecord.get(change.connectionId)
      // Never shown to a stock client: nothing to take back.
      if (mapping === undefined) continue
      this.#byRecord.delete(change.connectionId)
      if (mapping.owner === undefined) mapping.clock += 1
      const entry = { clientID: mapping.clientID, clock: mapping.clock, state: null }
      entries.push({ entry, owner: mapping.owner })
    }
    return this.#perRecipient(entries)
  }

  /** Every record as one awareness message for `recipient` (its own entries left out). */
  snapshot(records: Iterable<PresenceRecord>, recipient: Membership): Uint8Array | undefined {
    const entries: Array<{ entry: AwarenessEntry; owner: Membership | undefined }> = []
    for (const record of records) {
      const mapping = this.#mapping(record.connectionId)
      if (mapping.owner === undefined && mapping.clock === 0) mapping.clock = 1
      const entry = { clientID: mapping.clientID, clock: mapping.clock, state: record.presence }
      entries.push({ entry, owner: mapping.owner })
    }
    return this.#perRecipient(entries)(recipient)
  }

  #perRecipient(
    entries: Array<{ entry: AwarenessEntry; owner: Membership | undefined }>,
  ): AwarenessForRecipient {
    if (entries.length === 0) return () => undefined
    let all: Uint8Array | undefined
    return (recipient) => {
      if (!entries.some(({ owner }) => owner === recipient)) {
        all ??= encodeYjsAwareness(encodeAwarenessUpdate(entries.map(({ entry }) => entry)))
        return all
      }
      const others = entries.filter(({ owner }) => owner !== recipient).map(({ entry }) => entry)
      return others.length === 0 ? undefined : encodeYjsAwareness(encodeAwarenessUpdate(others))
    }
  }

  #mapping(recordId: string): Mapping {
    let mapping = this.#byRecord.get(recordId)
    if (mapping === undefined) {
      mapping = { clientID: syntheticBase + randomInt(2 ** 47), clock: 0, owner: undefined }
      this.#byRecord.set(recordId, mapping)
    }
    return mapping
  }

  #tombstone(clientID: number, clock: number): void {
    this.#tombstones.delete(clientID)
    this.#tombstones.set(clientID, clock)
    if (this.#tombstones.size <= limits.awarenessTombstones) return
    const oldest = this.#tombstones.keys().next()
    if (oldest.done !== true) this.#tombstones.delete(oldest.value)
  }
}
