// Feeds random and mutated frames to the decoder: it may only return a frame or throw
// ProtocolError, never hang, never throw anything else.
import { describe, expect, it } from 'vitest'
import { decodeFrame, encodeBatch, encodeFrame, type Frame, ProtocolError } from '../index'

/** Small deterministic PRNG (mulberry32) so a failure can be replayed from its seed. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const seeds: Frame[] = [
  { type: 'hello', version: 1, token: 'abc', resume: 'c1' },
  { type: 'join', handle: 3, room: 'room', doc: true, presence: { x: [1, { y: 'z' }] } },
  {
    type: 'event',
    handle: 1,
    event: 'chat',
    payload: { t: 'hello' },
    userId: 'u',
    connectionId: 'c',
  },
  {
    type: 'presenceDiff',
    handle: 2,
    seq: 9,
    changes: [
      { op: 'set', connectionId: 'a', userId: 'b', presence: { c: 1 } },
      { op: 'remove', connectionId: 'd', userId: 'e' },
    ],
  },
  { type: 'doc', handle: 1, seq: 1, message: new Uint8Array([0, 0, 1, 0]) },
  { type: 'feedEvent', channel: 'c', id: '1', data: [1, 2, 3] },
]
const encodedSeeds = [...seeds.map(encodeFrame), encodeBatch(seeds.slice(0, 3).map(encodeFrame))]

function mutate(bytes: Uint8Array, random: () => number): Uint8Array {
  const out = Array.from(bytes)
  const edits = 1 + Math.floor(random() * 4)
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(random() * (out.length + 1))
    switch (Math.floor(random() * 5)) {
      case 0:
        out[at] = Math.floor(random() * 256)
        break
      case 1:
        out.splice(at, 1)
        break
      case 2:
        out.splice(at, 0, Math.floor(random() * 256))
        break
      case 3:
        out.length = at
        break
      default:
        // Forge a huge length / count.
        out.splice(at, 0, 0xff, 0xff, 0xff, 0xff, 0x0f)
    }
  }
  return new Uint8Array(out)
}

describe('decodeFrame fuzz', () => {
  it('survives 120 000 random and mutated frames with only ProtocolError', () => {
    const random = rng(20261127)
    let decoded = 0
    let rejected = 0
    const started = Date.now()
    for (let i = 0; i < 120_000; i++) {
      let input: Uint8Array
      if (i % 2 === 0) {
        input = mutate(encodedSeeds[i % encodedSeeds.length]!, random)
      } else {
        input = new Uint8Array(Math.floor(random() * 64))
        for (let j = 0; j < input.length; j++) input[j] = Math.floor(random() * 256)
        // Often start with a valid tag so the body decoders get exercised.
        if (input.length > 0 && random() < 0.8) input[0] = Math.floor(random() * 24)
      }
      try {
        decodeFrame(input)
        decoded++
      } catch (error) {
        if (!(error instanceof ProtocolError)) {
          throw new Error(`iteration ${i}: ${String(error)} for [${Array.from(input)}]`)
        }
        rejected++
      }
    }
    expect(decoded + rejected).toBe(120_000)
    expect(rejected).toBeGreaterThan(0)
    expect(decoded).toBeGreaterThan(0)
    // A hang would show as a timeout; this bounds the worst case per frame too.
    expect(Date.now() - started).toBeLessThan(15_000)
  })
})
