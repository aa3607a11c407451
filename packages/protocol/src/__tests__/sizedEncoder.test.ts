import * as encoding from 'lib0/encoding'
import { describe, expect, it } from 'vitest'
import { decodeFrame, encodeBatch, encodeFrame, encodeSized, unbatch } from '../index'

const bytes = (n: number, seed = 7) => Uint8Array.from({ length: n }, (_, i) => (i * seed) & 255)

describe('encodeSized', () => {
  it('returns exactly what was written, in the one buffer it allocated, when it fits', () => {
    const out = encodeSized(64, (e) => {
      encoding.writeVarUint(e, 300)
      encoding.writeUint8Array(e, bytes(10))
    })
    expect(out.byteLength).toBe(12)
    expect(out.buffer.byteLength).toBe(64)
    expect(Array.from(out.subarray(2))).toEqual(Array.from(bytes(10)))
  })

  it('still returns everything written when the capacity was too small', () => {
    const out = encodeSized(4, (e) => encoding.writeVarUint8Array(e, bytes(1000)))
    const expected = encoding.createEncoder()
    encoding.writeVarUint8Array(expected, bytes(1000))
    expect(out).toEqual(encoding.toUint8Array(expected))
  })
})

describe('large binary frames', () => {
  it('a 300 KB doc frame and a batch holding it round-trip unchanged', () => {
    const message = bytes(300_000, 13)
    const doc = encodeFrame({ type: 'doc', handle: 0xffffffff, seq: 2 ** 50, message })
    // One exact buffer: payload plus a few header bytes, not a doubled spill buffer.
    expect(doc.buffer.byteLength).toBeLessThan(message.byteLength + 64)
    expect(decodeFrame(doc)).toEqual({ type: 'doc', handle: 0xffffffff, seq: 2 ** 50, message })
    const ack = encodeFrame({ type: 'ack', handle: 1, seq: 9 })
    const batch = encodeBatch([ack, doc])
    expect(batch.buffer.byteLength).toBeLessThan(doc.byteLength + ack.byteLength + 64)
    expect(unbatch(decodeFrame(batch))).toEqual([
      { type: 'ack', handle: 1, seq: 9 },
      { type: 'doc', handle: 0xffffffff, seq: 2 ** 50, message },
    ])
  })
})
