// y-protocols sync messages (step 1, step 2, update) as the server reads and writes them. Every
// message is decoded IN FULL before anything touches a document: y-protocols' readSyncMessage
// applies as it reads, and Yjs integrates structs before reading the delete set, so a truncated
// message would otherwise leave half an update behind in a room everyone shares.
import { encodeSized } from '@syncline/protocol'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import {
  messageYjsSyncStep1,
  messageYjsSyncStep2,
  messageYjsUpdate,
  writeSyncStep1,
} from 'y-protocols/sync'
import * as Y from 'yjs'

/** A sync message that decoded completely. */
export type ParsedSyncMessage =
  | { type: 'step1'; stateVector: Uint8Array }
  | {
      type: 'step2' | 'update'
      update: Uint8Array
      /** False when the update holds no struct and no deletion (e.g. an empty step 2). */
      hasContent: boolean
    }

/** Thrown by {@link parseSyncMessage} for bytes that are not one valid sync message. */
export class MalformedSyncMessageError extends Error {
  override readonly name = 'MalformedSyncMessageError'
}

function describe(error: unknown): string {
  return error instanceof Error && error.message !== '' ? error.message : String(error)
}

/**
 * Decodes one y-protocols sync message, including the state vector or update it carries.
 * Throws {@link MalformedSyncMessageError} for anything else: an unknown type, truncated
 * fields, trailing bytes, or a payload Yjs cannot decode.
 */
export function parseSyncMessage(message: Uint8Array): ParsedSyncMessage {
  let type: number
  let payload: Uint8Array
  try {
    const decoder = decoding.createDecoder(message)
    type = decoding.readVarUint(decoder)
    payload = decoding.readVarUint8Array(decoder)
    if (decoding.hasContent(decoder)) {
      throw new Error(`${message.byteLength - decoder.pos} trailing bytes`)
    }
  } catch (error) {
    throw new MalformedSyncMessageError(`malformed sync message: ${describe(error)}`)
  }
  try {
    switch (type) {
      case messageYjsSyncStep1:
        Y.decodeStateVector(payload)
        return { type: 'step1', stateVector: payload }
      case messageYjsSyncStep2:
      case messageYjsUpdate: {
        const { structs, ds } = Y.decodeUpdate(payload)
        return {
          type: type === messageYjsSyncStep2 ? 'step2' : 'update',
          update: payload,
          hasContent: structs.length > 0 || ds.clients.size > 0,
        }
      }
    }
  } catch (error) {
    throw new MalformedSyncMessageError(`malformed sync payload: ${describe(error)}`)
  }
  throw new MalformedSyncMessageError(`unknown sync message type ${type}`)
}

/** Sync step 1 (the state vector of `doc`). */
export function encodeSyncStep1(doc: Y.Doc): Uint8Array {
  const encoder = encoding.createEncoder()
  writeSyncStep1(encoder, doc)
  return encoding.toUint8Array(encoder)
}

/** Sync step 2: what `doc` holds beyond `stateVector` (already validated). */
export function encodeSyncStep2(doc: Y.Doc, stateVector: Uint8Array): Uint8Array {
  return wrapUpdate(messageYjsSyncStep2, Y.encodeStateAsUpdate(doc, stateVector))
}

/** A sync `update` message carrying `update`. */
export function encodeSyncUpdate(update: Uint8Array): Uint8Array {
  return wrapUpdate(messageYjsUpdate, update)
}

/** The sync message `type` + `update` in one exact buffer (a step 2 can be hundreds of KB). */
function wrapUpdate(type: number, update: Uint8Array): Uint8Array {
  return encodeSized(update.byteLength + 8, (encoder) => {
    encoding.writeVarUint(encoder, type)
    encoding.writeVarUint8Array(encoder, update)
  })
}
