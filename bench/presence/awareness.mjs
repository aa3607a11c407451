// Lean y-protocols awareness codec for the y-websocket and Hocuspocus load clients: encodes
// one client's state and decodes the server's updates without keeping an Awareness instance
// (the stock WebsocketProvider re-sends every update it receives, see ANCHORS.md).
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'

/** Outer y-protocols message type of an awareness message. */
export const MESSAGE_AWARENESS = 1

/**
 * Writes an awareness update holding one client's state: count, then clientID, clock and the
 * JSON state (the layout of y-protocols' encodeAwarenessUpdate).
 */
export function encodeOneState(clientId, clock, state) {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, 1)
  encoding.writeVarUint(encoder, clientId)
  encoding.writeVarUint(encoder, clock)
  encoding.writeVarString(encoder, JSON.stringify(state))
  return encoding.toUint8Array(encoder)
}

/** Calls `onState(state)` for each non-null state in an awareness update. */
export function readStates(update, onState) {
  const decoder = decoding.createDecoder(update)
  const n = decoding.readVarUint(decoder)
  for (let i = 0; i < n; i++) {
    decoding.readVarUint(decoder) // clientID
    decoding.readVarUint(decoder) // clock
    const json = decoding.readVarString(decoder)
    if (json !== 'null') onState(JSON.parse(json))
  }
}
