// Frame → bytes. One writer per frame kind, over a lib0 encoder, like y-protocols' writeSyncStep1.
import * as encoding from 'lib0/encoding'
import { type Frame, FrameTag, type PresenceEntry } from './frames'
import { encodeSized } from './sizedEncoder'

type Encoder = encoding.Encoder

/** JSON payloads travel as strings; `undefined` is the empty string. */
function writeJson(encoder: Encoder, value: unknown): void {
  encoding.writeVarString(encoder, value === undefined ? '' : JSON.stringify(value))
}

function writeOptionalString(encoder: Encoder, value: string | undefined): void {
  // 0 = absent, 1 = present: keeps '' distinct from "not sent".
  if (value === undefined) {
    encoding.writeVarUint(encoder, 0)
  } else {
    encoding.writeVarUint(encoder, 1)
    encoding.writeVarString(encoder, value)
  }
}

function writeEntry(encoder: Encoder, entry: PresenceEntry): void {
  encoding.writeVarString(encoder, entry.connectionId)
  encoding.writeVarString(encoder, entry.userId)
  writeJson(encoder, entry.presence)
}

/** Writes `frame` into `encoder` (tag first). Batches may not contain batches. */
export function writeFrame(encoder: Encoder, frame: Frame): void {
  encoding.writeVarUint(encoder, FrameTag[frame.type])
  switch (frame.type) {
    case 'hello':
      encoding.writeVarUint(encoder, frame.version)
      writeOptionalString(encoder, frame.token)
      writeOptionalString(encoder, frame.resume)
      return
    case 'welcome':
      encoding.writeVarUint(encoder, frame.version)
      encoding.writeVarString(encoder, frame.connectionId)
      encoding.writeVarString(encoder, frame.userId)
      encoding.writeVarUint(encoder, frame.pingIntervalMs)
      encoding.writeVarUint(encoder, frame.maxPayloadBytes)
      encoding.writeVarString(encoder, frame.resumeToken)
      return
    case 'join':
      encoding.writeVarUint(encoder, frame.handle)
      encoding.writeVarString(encoder, frame.room)
      encoding.writeVarUint(encoder, frame.doc ? 1 : 0)
      writeJson(encoder, frame.presence)
      return
    case 'joined':
      encoding.writeVarUint(encoder, frame.handle)
      encoding.writeVarUint(encoder, frame.access === 'write' ? 1 : 0)
      return
    case 'denied':
    case 'error':
      encoding.writeVarUint(encoder, frame.handle)
      encoding.writeVarString(encoder, frame.code)
      encoding.writeVarString(encoder, frame.type === 'denied' ? frame.reason : frame.message)
      return
    case 'leave':
    case 'presenceResync':
      encoding.writeVarUint(encoder, frame.handle)
      return
    case 'ping':
    case 'pong':
      encoding.writeVarUint(encoder, frame.id)
      return
    case 'ack':
      encoding.writeVarUint(encoder, frame.handle)
      encoding.writeVarUint(encoder, frame.seq)
      return
    case 'broadcast':
      encoding.writeVarUint(encoder, frame.handle)
      encoding.writeVarString(encoder, frame.event)
      writeJson(encoder, frame.payload)
      return
    case 'event':
      encoding.writeVarUint(encoder, frame.handle)
      encoding.writeVarString(encoder, frame.event)
      writeJson(encoder, frame.payload)
      encoding.writeVarString(encoder, frame.userId)
      encoding.writeVarString(encoder, frame.connectionId)
      return
    case 'presence':
      encoding.writeVarUint(encoder, frame.handle)
      writeJson(encoder, frame.presence)
      return
    case 'presenceSnapshot':
      encoding.writeVarUint(encoder, frame.handle)
      encoding.writeVarUint(encoder, frame.seq)
      encoding.writeVarUint(encoder, frame.entries.length)
      for (const entry of frame.entries) writeEntry(encoder, entry)
      return
    case 'presenceDiff':
      encoding.writeVarUint(encoder, frame.handle)
      encoding.writeVarUint(encoder, frame.seq)
      encoding.writeVarUint(encoder, frame.changes.length)
      for (const change of frame.changes) {
        if (change.op === 'set') {
          encoding.writeVarUint(encoder, 0)
          writeEntry(encoder, change)
        } else {
          encoding.writeVarUint(encoder, 1)
          encoding.writeVarString(encoder, change.connectionId)
          encoding.writeVarString(encoder, change.userId)
        }
      }
      return
    case 'doc':
      encoding.writeVarUint(encoder, frame.handle)
      encoding.writeVarUint(encoder, frame.seq)
      encoding.writeVarUint8Array(encoder, frame.message)
      return
    case 'awareness':
      encoding.writeVarUint(encoder, frame.handle)
      encoding.writeVarUint8Array(encoder, frame.update)
      return
    case 'subscribe':
      encoding.writeVarString(encoder, frame.channel)
      writeOptionalString(encoder, frame.lastEventId)
      return
    case 'unsubscribe':
      encoding.writeVarString(encoder, frame.channel)
      return
    case 'feedEvent':
      encoding.writeVarString(encoder, frame.channel)
      encoding.writeVarString(encoder, frame.id)
      writeJson(encoder, frame.data)
      return
    case 'feedReset':
      encoding.writeVarString(encoder, frame.channel)
      encoding.writeVarString(encoder, frame.reason)
      return
    case 'batch':
      encoding.writeVarUint(encoder, frame.frames.length)
      for (const inner of frame.frames) {
        if (inner.type === 'batch') throw new TypeError('batch frames cannot be nested')
        encoding.writeVarUint8Array(encoder, encodeFrame(inner))
      }
      return
  }
}

/** Header room (tag, handle, seq and length varints) on top of a frame's binary payload. */
const HEADER_BYTES = 32

/** Encodes one frame to the bytes of one WebSocket message. */
export function encodeFrame(frame: Frame): Uint8Array {
  // Binary payloads can be large (a document's step 2): one exact buffer, one copy.
  if (frame.type === 'doc') {
    return encodeSized(frame.message.byteLength + HEADER_BYTES, (e) => writeFrame(e, frame))
  }
  if (frame.type === 'awareness') {
    return encodeSized(frame.update.byteLength + HEADER_BYTES, (e) => writeFrame(e, frame))
  }
  const encoder = encoding.createEncoder()
  writeFrame(encoder, frame)
  return encoding.toUint8Array(encoder)
}

/**
 * Wraps already-encoded frames into one batch message without re-encoding them, which is what
 * a server does when it coalesces a tick's frames for one socket.
 */
export function encodeBatch(encodedFrames: readonly Uint8Array[]): Uint8Array {
  if (encodedFrames.length === 1) return encodedFrames[0]!
  let capacity = 16
  for (const bytes of encodedFrames) capacity += bytes.byteLength + 5
  return encodeSized(capacity, (encoder) => {
    encoding.writeVarUint(encoder, FrameTag.batch)
    encoding.writeVarUint(encoder, encodedFrames.length)
    for (const bytes of encodedFrames) encoding.writeVarUint8Array(encoder, bytes)
  })
}
