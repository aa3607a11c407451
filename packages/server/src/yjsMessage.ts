// The outer framing of the plain y-websocket protocol spoken on `/yjs/<room>`: each WebSocket
// message is a varUint message type followed by its body (see ANCHORS: 0 sync, 1 awareness,
// 2 auth, 3 query awareness). Sync bodies are y-protocols sync messages, unchanged.
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'

/** Outer message types of the y-websocket protocol. */
export const YjsMessageType = {
  sync: 0,
  awareness: 1,
  auth: 2,
  queryAwareness: 3,
} as const

/** y-protocols auth message: permission denied (the only one there is). */
const permissionDenied = 0

/** A decoded message from a y-websocket client. */
export type YjsClientMessage =
  | { type: 'sync'; message: Uint8Array }
  | { type: 'awareness'; update: Uint8Array }
  | { type: 'queryAwareness' }

/** Decodes one message from a y-websocket client; throws on anything else. */
export function decodeYjsMessage(bytes: Uint8Array): YjsClientMessage {
  const decoder = decoding.createDecoder(bytes)
  const type = decoding.readVarUint(decoder)
  switch (type) {
    case YjsMessageType.sync:
      // The sync message is the rest of the bytes; parseSyncMessage checks it completely.
      return { type: 'sync', message: bytes.subarray(decoder.pos) }
    case YjsMessageType.awareness: {
      const update = decoding.readVarUint8Array(decoder)
      if (decoding.hasContent(decoder)) throw new Error('trailing bytes after awareness message')
      return { type: 'awareness', update }
    }
    case YjsMessageType.queryAwareness:
      if (decoding.hasContent(decoder)) throw new Error('trailing bytes after query awareness')
      return { type: 'queryAwareness' }
    default:
      throw new Error(`unsupported y-websocket message type ${type}`)
  }
}

/** Wraps a y-protocols sync message for a y-websocket client. */
export function encodeYjsSync(syncMessage: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, YjsMessageType.sync)
  encoding.writeUint8Array(encoder, syncMessage)
  return encoding.toUint8Array(encoder)
}

/** Wraps an awareness update for a y-websocket client. */
export function encodeYjsAwareness(update: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, YjsMessageType.awareness)
  encoding.writeVarUint8Array(encoder, update)
  return encoding.toUint8Array(encoder)
}

/** A y-protocols "permission denied" auth message (y-websocket logs the reason). */
export function encodeYjsPermissionDenied(reason: string): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, YjsMessageType.auth)
  encoding.writeVarUint(encoder, permissionDenied)
  encoding.writeVarString(encoder, reason)
  return encoding.toUint8Array(encoder)
}
