import { describe, expect, it } from 'vitest'
import {
  CloseCode,
  closeAction,
  decodeFrame,
  encodeBatch,
  encodeFrame,
  type Frame,
  PROTOCOL_VERSION,
  ProtocolError,
  unbatch,
} from '../index'

const samples: Frame[] = [
  { type: 'hello', version: PROTOCOL_VERSION },
  { type: 'hello', version: PROTOCOL_VERSION, token: 'tok', resume: 'c-1' },
  { type: 'hello', version: 7, token: '' },
  {
    type: 'welcome',
    version: 1,
    connectionId: 'c1',
    userId: 'u1',
    pingIntervalMs: 10_000,
    maxPayloadBytes: 1_048_576,
    resumeToken: 'secret',
  },
  { type: 'join', handle: 1, room: 'board-1', doc: false },
  {
    type: 'join',
    handle: 2,
    room: 'ünïcødé 🎉',
    doc: true,
    presence: { name: 'Ada', cursor: null },
  },
  { type: 'joined', handle: 1, access: 'write' },
  { type: 'joined', handle: 3, access: 'read' },
  { type: 'denied', handle: 1, code: 'forbidden', reason: 'not a member' },
  { type: 'leave', handle: 9 },
  { type: 'error', handle: 0, code: 'rate_limited', message: 'slow down' },
  { type: 'ping', id: 42 },
  { type: 'pong', id: 2 ** 40 },
  { type: 'ack', handle: 1, seq: 17 },
  { type: 'broadcast', handle: 1, event: 'chat', payload: { text: 'hi', n: [1, 2] } },
  { type: 'broadcast', handle: 1, event: 'tick', payload: undefined },
  { type: 'event', handle: 1, event: 'chat', payload: 'x', userId: 'u', connectionId: 'c' },
  { type: 'presence', handle: 4, presence: { cursor: { x: 1.5, y: -2 } } },
  {
    type: 'presenceSnapshot',
    handle: 4,
    seq: 0,
    entries: [{ connectionId: 'c1', userId: 'u1', presence: { a: 1 } }],
  },
  {
    type: 'presenceDiff',
    handle: 4,
    seq: 5,
    changes: [
      { op: 'set', connectionId: 'c2', userId: 'u2', presence: { b: 2 } },
      { op: 'remove', connectionId: 'c1', userId: 'u1' },
    ],
  },
  { type: 'presenceResync', handle: 4 },
  { type: 'doc', handle: 2, seq: 3, message: new Uint8Array([0, 1, 2, 255]) },
  { type: 'awareness', handle: 2, update: new Uint8Array([1, 0]) },
  { type: 'subscribe', channel: 'news' },
  { type: 'subscribe', channel: 'news', lastEventId: '41' },
  { type: 'unsubscribe', channel: 'news' },
  { type: 'feedEvent', channel: 'news', id: '42', data: { title: 't' } },
  { type: 'feedReset', channel: 'news', reason: 'gap' },
]

describe('codec', () => {
  it.each(samples.map((frame) => [frame.type, frame] as const))('round-trips %s', (_, frame) => {
    expect(decodeFrame(encodeFrame(frame))).toEqual(frame)
  })

  it('batches pre-encoded frames and unbatches them in order', () => {
    const frames = samples.slice(10, 15)
    const batch = decodeFrame(encodeBatch(frames.map(encodeFrame)))
    expect(batch.type).toBe('batch')
    expect(unbatch(batch)).toEqual(frames)
  })

  it('sends a single frame unwrapped', () => {
    const bytes = encodeFrame(samples[0]!)
    expect(encodeBatch([bytes])).toBe(bytes)
  })

  it('refuses nested batches on both sides', () => {
    const inner = encodeBatch([encodeFrame(samples[0]!), encodeFrame(samples[1]!)])
    expect(() => decodeFrame(encodeBatch([inner, inner]))).toThrow(ProtocolError)
    expect(() => encodeFrame({ type: 'batch', frames: [{ type: 'batch', frames: [] }] })).toThrow(
      TypeError,
    )
  })

  it('rejects truncation, unknown tags, trailing bytes and bad JSON with typed errors', () => {
    const bytes = encodeFrame({ type: 'broadcast', handle: 1, event: 'e', payload: { a: 1 } })
    const codeOf = (input: Uint8Array) => {
      try {
        decodeFrame(input)
      } catch (error) {
        expect(error).toBeInstanceOf(ProtocolError)
        return (error as ProtocolError).code
      }
      return 'decoded'
    }
    expect(codeOf(bytes.subarray(0, bytes.length - 1))).toBe('truncated')
    expect(codeOf(new Uint8Array([99]))).toBe('unknown_frame')
    expect(codeOf(new Uint8Array([200]))).toBe('truncated')
    expect(codeOf(new Uint8Array([...bytes, 0]))).toBe('trailing_bytes')
    expect(codeOf(new Uint8Array())).toBe('truncated')
    const badJson = new TextEncoder().encode('{nope')
    expect(codeOf(new Uint8Array([10, 1, 1, 101, badJson.length, ...badJson]))).toBe('invalid_json')
  })

  it('decodes bytes that are a view into a larger buffer', () => {
    const bytes = encodeFrame({ type: 'ping', id: 5 })
    const big = new Uint8Array(bytes.length + 10)
    big.set(bytes, 5)
    expect(decodeFrame(big.subarray(5, 5 + bytes.length))).toEqual({ type: 'ping', id: 5 })
  })
  it('copies binary fields out of a Node Buffer (what ws hands a server), whose slice is a view', () => {
    const message = Uint8Array.from({ length: 40 }, (_, i) => i + 1)
    const wire = Buffer.from(encodeFrame({ type: 'doc', handle: 1, seq: 3, message }))
    const frame = decodeFrame(wire)
    wire.fill(0)
    expect(frame).toEqual({ type: 'doc', handle: 1, seq: 3, message })
  })
})

describe('close codes', () => {
  it('retries transient closes and fails on the ones retrying cannot fix', () => {
    expect(closeAction(CloseCode.GoingAway)).toBe('retry')
    expect(closeAction(CloseCode.Abnormal)).toBe('retry')
    expect(closeAction(CloseCode.Timeout)).toBe('retry')
    expect(closeAction(CloseCode.RateLimited)).toBe('retry')
    expect(closeAction(CloseCode.MessageTooBig)).toBe('retry')
    expect(closeAction(CloseCode.PolicyViolation)).toBe('retry')
    expect(closeAction(4999)).toBe('retry')
    expect(closeAction(CloseCode.Unauthorized)).toBe('reauthenticate')
    expect(closeAction(CloseCode.Forbidden)).toBe('fail')
    expect(closeAction(CloseCode.ProtocolVersion)).toBe('fail')
    expect(closeAction(CloseCode.MalformedFrame)).toBe('fail')
  })
})
