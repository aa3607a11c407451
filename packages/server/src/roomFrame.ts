// Encode a room frame once and send it to many members. Every room frame starts with its tag
// and then the recipient's handle, and handles are chosen per connection, so the bytes after
// the handle are shared: re-addressing is a small prefix write, not a new JSON.stringify.
import { encodeFrame, encodeSized, type Frame } from '@syncline/protocol'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'

/** Frames addressed to a room handle (tag, then handle, then the body on the wire). */
export type RoomFrame = Extract<Frame, { handle: number }>

/** Bytes of one frame for any recipient handle, computed once per distinct handle. */
export type AddressedFrame = (handle: number) => Uint8Array

/**
 * A Buffer view of `bytes` (no copy): `ws` sends a Buffer as is but wraps any other Uint8Array
 * in a new one on every send, and one frame is sent to many members.
 */
function asBuffer(bytes: Uint8Array): Uint8Array {
  return Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/**
 * Re-addresses `bytes` (an encoded room frame, any handle) to each handle asked for. Most
 * clients number their rooms from 1, so in practice this encodes once per message.
 */
export function addressedFrameFromBytes(bytes: Uint8Array): AddressedFrame {
  const decoder = decoding.createDecoder(bytes)
  const tag = decoding.readVarUint(decoder)
  const sourceHandle = decoding.readVarUint(decoder)
  const body = bytes.subarray(decoder.pos)
  const cache = new Map<number, Uint8Array>([[sourceHandle, asBuffer(bytes)]])
  return (handle) => {
    let addressed = cache.get(handle)
    if (addressed === undefined) {
      // Tag and handle are at most 5 bytes each as varints.
      addressed = asBuffer(
        encodeSized(body.byteLength + 10, (encoder) => {
          encoding.writeVarUint(encoder, tag)
          encoding.writeVarUint(encoder, handle)
          encoding.writeUint8Array(encoder, body)
        }),
      )
      cache.set(handle, addressed)
    }
    return addressed
  }
}

/** Encodes `frame` once (its own handle is irrelevant) for delivery to many handles. */
export function addressedFrame(frame: RoomFrame): AddressedFrame {
  return addressedFrameFromBytes(encodeFrame(frame))
}
