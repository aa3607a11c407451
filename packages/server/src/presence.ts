// A room's presence bookkeeping: every connection's presence (local and from other servers),
// the changes since the last diff coalesced to their latest value, and the per-room sequence
// number that lets a client tell a snapshot from the diffs that follow it.
import type { PresenceChange, PresenceEntry } from '@syncline/protocol'

/** One connection's presence as this server holds it. */
export interface PresenceRecord {
  connectionId: string
  userId: string
  presence: unknown
  /** `presence` as JSON text: compared to skip no-op changes, and sent on the bus as is. */
  json: string
  /** Server that owns the connection (this server's id for local connections). */
  origin: string
  /** Last time the owning server confirmed it (ms); remote records expire without it. */
  seenAt: number
  /**
   * Set while a local connection dropped uncleanly and may resume: the record stays visible
   * and is released only by the hold with this token.
   */
  hold?: object
}

/** Result of {@link validatePresence}. */
export type PresenceCheck = { ok: true; json: string } | { ok: false; reason: string }

/**
 * Presence must be a JSON object no larger than `maxBytes` of JSON text. Returns the JSON text
 * (needed anyway for the bus and for change detection) or the reason it is refused.
 */
export function validatePresence(value: unknown, maxBytes: number): PresenceCheck {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: 'presence must be a JSON object' }
  }
  const json = JSON.stringify(value)
  const size = Buffer.byteLength(json)
  if (size > maxBytes) {
    return {
      ok: false,
      reason: `presence is ${size} bytes of JSON; the limit is ${maxBytes} (maxPresenceBytes)`,
    }
  }
  return { ok: true, json }
}

/** Presence state of one room on this server. No timers: the room and ticker drive it. */
export class RoomPresence {
  readonly #records = new Map<string, PresenceRecord>()
  readonly #pending = new Map<string, PresenceChange>()
  #seq = 0

  /** Sequence number of the last diff taken (0 before the first). */
  get seq(): number {
    return this.#seq
  }

  /** Whether changes wait for the next diff. */
  get hasPending(): boolean {
    return this.#pending.size > 0
  }

  /** Records held. */
  get size(): number {
    return this.#records.size
  }

  /** The record of `connectionId`. */
  get(connectionId: string): PresenceRecord | undefined {
    return this.#records.get(connectionId)
  }

  /** All records. */
  records(): IterableIterator<PresenceRecord> {
    return this.#records.values()
  }

  /**
   * Stores `record`, replacing any previous one. Queues a `set` change unless the presence is
   * unchanged for the same user, so a resumed connection causes no diff at all.
   */
  set(record: PresenceRecord): void {
    const previous = this.#records.get(record.connectionId)
    this.#records.set(record.connectionId, record)
    if (previous?.json === record.json && previous.userId === record.userId) return
    this.#pending.set(record.connectionId, {
      op: 'set',
      connectionId: record.connectionId,
      userId: record.userId,
      presence: record.presence,
    })
  }

  /** Removes the record of `connectionId` and queues a `remove`; false if there was none. */
  remove(connectionId: string): boolean {
    const record = this.#records.get(connectionId)
    if (record === undefined) return false
    this.#records.delete(connectionId)
    this.#pending.set(connectionId, { op: 'remove', connectionId, userId: record.userId })
    return true
  }

  /** Every record as snapshot entries, numbered with the current sequence. */
  snapshot(): { seq: number; entries: PresenceEntry[] } {
    const entries: PresenceEntry[] = []
    for (const { connectionId, userId, presence } of this.#records.values()) {
      entries.push({ connectionId, userId, presence })
    }
    return { seq: this.#seq, entries }
  }

  /**
   * Takes the coalesced changes as the next diff (seq + 1), or `undefined` if there are none.
   * A snapshot taken before this already contains these changes; re-applying them is harmless.
   */
  takeDiff(): { seq: number; changes: PresenceChange[] } | undefined {
    if (this.#pending.size === 0) return undefined
    const changes = [...this.#pending.values()]
    this.#pending.clear()
    this.#seq += 1
    return { seq: this.#seq, changes }
  }
}
