// y-protocols sync messages (step 1, step 2, update) encoded and read by hand for the lean
// benchmark clients, so every target's client does exactly the same Yjs work per message.
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'

export const STEP1 = 0
export const STEP2 = 1
export const UPDATE = 2

const message = (type, bytes) => {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, type)
  encoding.writeVarUint8Array(encoder, bytes)
  return encoding.toUint8Array(encoder)
}

/** Sync step 1: the document's state vector. */
export const step1 = (doc) => message(STEP1, Y.encodeStateVector(doc))
/** Sync step 2: what a peer with state vector `sv` lacks. */
export const step2For = (doc, sv) => message(STEP2, Y.encodeStateAsUpdate(doc, sv))
/** A sync update message carrying one Yjs update. */
export const update = (bytes) => message(UPDATE, bytes)

/** Reads a sync message: its type and payload (state vector or update). */
export function readSync(bytes) {
  const decoder = decoding.createDecoder(bytes)
  const type = decoding.readVarUint(decoder)
  return { type, payload: decoding.readVarUint8Array(decoder) }
}

/** Prefixes `body` with the given var-uint / var-string header fields (transport wrappers). */
export function wrap(header, body) {
  const encoder = encoding.createEncoder()
  for (const field of header) {
    if (typeof field === 'string') encoding.writeVarString(encoder, field)
    else encoding.writeVarUint(encoder, field)
  }
  encoding.writeUint8Array(encoder, body)
  return encoding.toUint8Array(encoder)
}
