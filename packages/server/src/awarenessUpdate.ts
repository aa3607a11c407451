// The y-protocols awareness update format (count, then per client: clientID, clock, JSON state
// with `null` meaning "gone"), decoded strictly and encoded without a y-protocols Awareness
// instance (which would start its own interval timer per room).
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'

/** One client's entry in an awareness update. */
export interface AwarenessEntry {
  clientID: number
  clock: number
  /** The client's state; `null` when the client is gone. */
  state: unknown
}

/**
 * Decodes an awareness update. Throws on truncated input, trailing bytes, invalid JSON or a
 * count that does not match the entries; every loop consumes input, so a forged count cannot
 * make it spin.
 */
export function decodeAwarenessUpdate(update: Uint8Array): AwarenessEntry[] {
  const decoder = decoding.createDecoder(update)
  const count = decoding.readVarUint(decoder)
  const entries: AwarenessEntry[] = []
  while (entries.length < count && decoding.hasContent(decoder)) {
    const clientID = decoding.readVarUint(decoder)
    const clock = decoding.readVarUint(decoder)
    const state: unknown = JSON.parse(decoding.readVarString(decoder))
    entries.push({ clientID, clock, state })
  }
  if (entries.length !== count) {
    throw new Error(`awareness update announces ${count} clients but holds ${entries.length}`)
  }
  if (decoding.hasContent(decoder)) throw new Error('trailing bytes after the awareness update')
  return entries
}

/** Encodes an awareness update; `state: null` tells receivers the client is gone. */
export function encodeAwarenessUpdate(entries: readonly AwarenessEntry[]): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, entries.length)
  for (const { clientID, clock, state } of entries) {
    encoding.writeVarUint(encoder, clientID)
    encoding.writeVarUint(encoder, clock)
    encoding.writeVarString(encoder, JSON.stringify(state))
  }
  return encoding.toUint8Array(encoder)
}
