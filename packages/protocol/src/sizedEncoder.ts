// Large payloads (a sync step 2 of a whole document is hundreds of KB) go through several
// encoders on their way out: the sync message, the `doc` frame, the batch. lib0's encoder
// starts at 100 bytes, so each of them spills, allocates a buffer twice the payload and copies
// it twice. Sizing the encoder up front makes each layer ONE copy into ONE exact allocation.
import * as encoding from 'lib0/encoding'

/**
 * Runs `write` on an encoder with room for `capacity` bytes and returns what it wrote, as a
 * view of that buffer when it fit (no second copy) or as lib0's concatenation otherwise, so an
 * underestimate costs only speed.
 */
export function encodeSized(
  capacity: number,
  write: (encoder: encoding.Encoder) => void,
): Uint8Array {
  const encoder = new encoding.Encoder()
  encoder.cbuf = new Uint8Array(capacity)
  write(encoder)
  return encoder.bufs.length === 0
    ? encoder.cbuf.subarray(0, encoder.cpos)
    : encoding.toUint8Array(encoder)
}
