// The envelope of every message a server puts on the Bus. Binary (lib0, like the wire
// protocol), versioned, and carrying the publishing server's id so a server can ignore its
// own messages when the bus echoes them back.
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'

/** Envelope format version; a server ignores envelopes of other versions. */
export const BUS_MESSAGE_VERSION = 1

const Kind = {
  event: 0,
  presenceSet: 1,
  presenceRemove: 2,
  presenceQuery: 3,
  presenceRefresh: 4,
  docUpdate: 5,
} as const

/**
 * A broadcast relayed to other processes. `frame` is the already-encoded `event` frame (handle
 * irrelevant): receivers re-address it to their members without decoding it.
 */
export interface BusEventMessage {
  kind: 'event'
  /** Server that published the message. */
  origin: string
  frame: Uint8Array
}

/** A connection on `origin` set its whole presence (JSON text). */
export interface BusPresenceSetMessage {
  kind: 'presenceSet'
  origin: string
  connectionId: string
  userId: string
  json: string
}

/** A connection on `origin` left the room. */
export interface BusPresenceRemoveMessage {
  kind: 'presenceRemove'
  origin: string
  connectionId: string
  userId: string
}

/** `origin` just opened the room and asks the others to announce their connections. */
export interface BusPresenceQueryMessage {
  kind: 'presenceQuery'
  origin: string
}

/**
 * `origin` is alive and still has these connections in the room. Entries of a server that
 * stops refreshing (it died) expire after presenceTimeoutMs on the other servers.
 */
export interface BusPresenceRefreshMessage {
  kind: 'presenceRefresh'
  origin: string
  connectionIds: string[]
}

/**
 * A Yjs update applied to the room's document on `origin` (from one of its clients). Receivers
 * that have the document loaded apply it (and relay it to their members) without re-publishing.
 *
 * Like everything on the bus this is at-most-once (Redis Pub/Sub, core NATS): a lost update
 * leaves another process's copy behind until a later update depends on it or the document is
 * reloaded. Clients still converge with the process they talk to, and the store receives the
 * update from the process that accepted it. A state-vector resync between processes (see
 * `Room.documentStateVector`) is the hook for closing such gaps; it is not wired yet.
 */
export interface BusDocUpdateMessage {
  kind: 'docUpdate'
  origin: string
  update: Uint8Array
}

/** Any bus message. */
export type BusMessage =
  | BusEventMessage
  | BusPresenceSetMessage
  | BusPresenceRemoveMessage
  | BusPresenceQueryMessage
  | BusPresenceRefreshMessage
  | BusDocUpdateMessage

/** The topic carrying a room's traffic. */
export function roomTopic(room: string): string {
  return `syncline:room:${room}`
}

/** Encodes a bus message. */
export function encodeBusMessage(message: BusMessage): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, BUS_MESSAGE_VERSION)
  encoding.writeVarUint(encoder, Kind[message.kind])
  encoding.writeVarString(encoder, message.origin)
  switch (message.kind) {
    case 'event':
      encoding.writeVarUint8Array(encoder, message.frame)
      break
    case 'presenceSet':
      encoding.writeVarString(encoder, message.connectionId)
      encoding.writeVarString(encoder, message.userId)
      encoding.writeVarString(encoder, message.json)
      break
    case 'presenceRemove':
      encoding.writeVarString(encoder, message.connectionId)
      encoding.writeVarString(encoder, message.userId)
      break
    case 'presenceQuery':
      break
    case 'presenceRefresh':
      encoding.writeVarUint(encoder, message.connectionIds.length)
      for (const id of message.connectionIds) encoding.writeVarString(encoder, id)
      break
    case 'docUpdate':
      encoding.writeVarUint8Array(encoder, message.update)
      break
  }
  return encoding.toUint8Array(encoder)
}

function readBody(decoder: decoding.Decoder, kind: number, origin: string): BusMessage | undefined {
  switch (kind) {
    case Kind.event:
      return { kind: 'event', origin, frame: decoding.readVarUint8Array(decoder) }
    case Kind.presenceSet:
      return {
        kind: 'presenceSet',
        origin,
        connectionId: decoding.readVarString(decoder),
        userId: decoding.readVarString(decoder),
        json: decoding.readVarString(decoder),
      }
    case Kind.presenceRemove:
      return {
        kind: 'presenceRemove',
        origin,
        connectionId: decoding.readVarString(decoder),
        userId: decoding.readVarString(decoder),
      }
    case Kind.presenceQuery:
      return { kind: 'presenceQuery', origin }
    case Kind.presenceRefresh: {
      const count = decoding.readVarUint(decoder)
      const connectionIds: string[] = []
      // Each id consumes at least one byte, so a forged count cannot spin past the input.
      for (let i = 0; i < count && decoding.hasContent(decoder); i++) {
        connectionIds.push(decoding.readVarString(decoder))
      }
      if (connectionIds.length !== count) return undefined
      return { kind: 'presenceRefresh', origin, connectionIds }
    }
    case Kind.docUpdate:
      return { kind: 'docUpdate', origin, update: decoding.readVarUint8Array(decoder) }
    default:
      return undefined
  }
}

/**
 * Decodes a bus message; returns `undefined` for anything it does not understand (another
 * version during a rolling deploy, or garbage), which the caller drops.
 */
export function decodeBusMessage(bytes: Uint8Array): BusMessage | undefined {
  try {
    const decoder = decoding.createDecoder(bytes)
    if (decoding.readVarUint(decoder) !== BUS_MESSAGE_VERSION) return undefined
    const kind = decoding.readVarUint(decoder)
    const origin = decoding.readVarString(decoder)
    const message = readBody(decoder, kind, origin)
    return message !== undefined && !decoding.hasContent(decoder) ? message : undefined
  } catch {
    return undefined
  }
}
