// Bytes → frame. Untrusted input: every failure becomes a ProtocolError, nothing else escapes,
// and every loop consumes input so a forged count cannot make decoding spin.
import * as decoding from 'lib0/decoding'
import { type Frame, FrameTag, type PresenceChange, type PresenceEntry } from './frames'
import { ProtocolError } from './protocolError'

type Decoder = decoding.Decoder

const tagToType = Object.fromEntries(
  Object.entries(FrameTag).map(([type, tag]) => [tag, type]),
) as Record<number, Frame['type']>

function readUint(decoder: Decoder): number {
  if (decoder.pos >= decoder.arr.length) throw new ProtocolError('truncated', 'frame is truncated')
  let value: number
  try {
    value = decoding.readVarUint(decoder)
  } catch {
    throw new ProtocolError('truncated', 'integer runs past the end of the frame')
  }
  if (!Number.isSafeInteger(value)) throw new ProtocolError('invalid_field', 'integer out of range')
  return value
}

const textDecoder = new TextDecoder()

function readString(decoder: Decoder): string {
  const length = readUint(decoder)
  if (length > decoder.arr.length - decoder.pos) {
    throw new ProtocolError('truncated', 'string runs past the end of the frame')
  }
  const text = textDecoder.decode(decoder.arr.subarray(decoder.pos, decoder.pos + length))
  decoder.pos += length
  return text
}

function readBytes(decoder: Decoder): Uint8Array {
  const length = readUint(decoder)
  if (length > decoder.arr.length - decoder.pos) {
    throw new ProtocolError('truncated', 'byte array runs past the end of the frame')
  }
  // Copy: the caller may keep the bytes after the socket reuses its buffer. Explicitly, as the
  // input may be a Node Buffer, whose `slice` returns a view.
  const bytes = new Uint8Array(length)
  bytes.set(decoder.arr.subarray(decoder.pos, decoder.pos + length))
  decoder.pos += length
  return bytes
}

function readJson(decoder: Decoder): unknown {
  const text = readString(decoder)
  if (text === '') return undefined
  try {
    return JSON.parse(text)
  } catch {
    throw new ProtocolError('invalid_json', 'payload is not valid JSON')
  }
}

function readOptionalString(decoder: Decoder): string | undefined {
  const flag = readUint(decoder)
  if (flag === 0) return undefined
  if (flag !== 1) throw new ProtocolError('invalid_field', 'optional flag must be 0 or 1')
  return readString(decoder)
}

function readHandle(decoder: Decoder): number {
  const handle = readUint(decoder)
  if (handle > 0xffffffff) throw new ProtocolError('invalid_field', 'room handle out of range')
  return handle
}

function readEntry(decoder: Decoder): PresenceEntry {
  const connectionId = readString(decoder)
  const userId = readString(decoder)
  return { connectionId, userId, presence: readJson(decoder) }
}

function readBody(decoder: Decoder, type: Frame['type'], nested: boolean): Frame {
  switch (type) {
    case 'hello': {
      const version = readUint(decoder)
      const token = readOptionalString(decoder)
      const resume = readOptionalString(decoder)
      const frame: Frame = { type, version }
      if (token !== undefined) frame.token = token
      if (resume !== undefined) frame.resume = resume
      return frame
    }
    case 'welcome':
      return {
        type,
        version: readUint(decoder),
        connectionId: readString(decoder),
        userId: readString(decoder),
        pingIntervalMs: readUint(decoder),
        maxPayloadBytes: readUint(decoder),
        resumeToken: readString(decoder),
      }
    case 'join': {
      const handle = readHandle(decoder)
      const room = readString(decoder)
      const flags = readUint(decoder)
      const presence = readJson(decoder)
      const frame: Frame = { type, handle, room, doc: (flags & 1) === 1 }
      if (presence !== undefined) frame.presence = presence
      return frame
    }
    case 'joined': {
      const handle = readHandle(decoder)
      const access = readUint(decoder)
      if (access > 1) throw new ProtocolError('invalid_field', 'unknown access level')
      return { type, handle, access: access === 1 ? 'write' : 'read' }
    }
    case 'denied':
      return {
        type,
        handle: readHandle(decoder),
        code: readString(decoder),
        reason: readString(decoder),
      }
    case 'error':
      return {
        type,
        handle: readHandle(decoder),
        code: readString(decoder),
        message: readString(decoder),
      }
    case 'leave':
    case 'presenceResync':
      return { type, handle: readHandle(decoder) }
    case 'ping':
    case 'pong':
      return { type, id: readUint(decoder) }
    case 'ack':
      return { type, handle: readHandle(decoder), seq: readUint(decoder) }
    case 'broadcast':
      return {
        type,
        handle: readHandle(decoder),
        event: readString(decoder),
        payload: readJson(decoder),
      }
    case 'event':
      return {
        type,
        handle: readHandle(decoder),
        event: readString(decoder),
        payload: readJson(decoder),
        userId: readString(decoder),
        connectionId: readString(decoder),
      }
    case 'presence':
      return { type, handle: readHandle(decoder), presence: readJson(decoder) }
    case 'presenceSnapshot': {
      const handle = readHandle(decoder)
      const seq = readUint(decoder)
      const count = readUint(decoder)
      const entries: PresenceEntry[] = []
      for (let i = 0; i < count; i++) entries.push(readEntry(decoder))
      return { type, handle, seq, entries }
    }
    case 'presenceDiff': {
      const handle = readHandle(decoder)
      const seq = readUint(decoder)
      const count = readUint(decoder)
      const changes: PresenceChange[] = []
      for (let i = 0; i < count; i++) {
        const op = readUint(decoder)
        if (op === 0) {
          changes.push({ op: 'set', ...readEntry(decoder) })
        } else if (op === 1) {
          changes.push({
            op: 'remove',
            connectionId: readString(decoder),
            userId: readString(decoder),
          })
        } else {
          throw new ProtocolError('invalid_field', 'unknown presence change')
        }
      }
      return { type, handle, seq, changes }
    }
    case 'doc':
      return {
        type,
        handle: readHandle(decoder),
        seq: readUint(decoder),
        message: readBytes(decoder),
      }
    case 'awareness':
      return { type, handle: readHandle(decoder), update: readBytes(decoder) }
    case 'subscribe': {
      const channel = readString(decoder)
      const lastEventId = readOptionalString(decoder)
      return lastEventId === undefined ? { type, channel } : { type, channel, lastEventId }
    }
    case 'unsubscribe':
      return { type, channel: readString(decoder) }
    case 'feedEvent':
      return {
        type,
        channel: readString(decoder),
        id: readString(decoder),
        data: readJson(decoder),
      }
    case 'feedReset':
      return { type, channel: readString(decoder), reason: readString(decoder) }
    case 'batch': {
      if (nested) throw new ProtocolError('invalid_field', 'batch frames cannot be nested')
      const count = readUint(decoder)
      const frames: Frame[] = []
      for (let i = 0; i < count; i++) frames.push(decodeOne(readBytes(decoder), true))
      return { type, frames }
    }
  }
}

function decodeOne(bytes: Uint8Array, nested: boolean): Frame {
  const decoder = decoding.createDecoder(bytes)
  const tag = readUint(decoder)
  const type = tagToType[tag]
  if (type === undefined) throw new ProtocolError('unknown_frame', `unknown frame tag ${tag}`)
  const frame = readBody(decoder, type, nested)
  if (decoder.pos !== bytes.length) {
    throw new ProtocolError(
      'trailing_bytes',
      `${bytes.length - decoder.pos} unexpected bytes after ${type} frame`,
    )
  }
  return frame
}

/**
 * Decodes one WebSocket message. Throws {@link ProtocolError} — and nothing else — when the
 * bytes are not a valid frame.
 */
export function decodeFrame(bytes: Uint8Array): Frame {
  try {
    return decodeOne(bytes, false)
  } catch (error) {
    if (error instanceof ProtocolError) throw error
    // lib0 and TextDecoder throw plain errors on exotic input; keep the contract of one type.
    throw new ProtocolError('invalid_field', error instanceof Error ? error.message : String(error))
  }
}

/** Flattens a batch into its frames; any other frame is returned alone. */
export function unbatch(frame: Frame): Frame[] {
  return frame.type === 'batch' ? frame.frames : [frame]
}
