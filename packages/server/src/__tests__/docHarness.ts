// Test helpers for documents: raw y-protocols sync over the native protocol (a Y.Doc per test
// client, doc frames built with y-protocols' own encoders), reading whole messages, and polling
// of server stats for conditions that have no event. Store spies are in @syncline/test-utils.
import { decodeFrame, type Frame, unbatch } from '@syncline/protocol'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import * as syncProtocol from 'y-protocols/sync'
import * as Y from 'yjs'
import type { SynclineServer } from '../index'
import type { Client } from './harness'

/** A y-protocols sync step 1 for `doc`. */
export function step1(doc: Y.Doc): Uint8Array {
  const encoder = encoding.createEncoder()
  syncProtocol.writeSyncStep1(encoder, doc)
  return encoding.toUint8Array(encoder)
}

/** A y-protocols sync `update` message. */
export function updateMessage(update: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder()
  syncProtocol.writeUpdate(encoder, update)
  return encoding.toUint8Array(encoder)
}

/** The sync message type and payload of `message`. */
export function readSync(message: Uint8Array): { type: number; payload: Uint8Array } {
  const decoder = decoding.createDecoder(message)
  const type = decoding.readVarUint(decoder)
  return { type, payload: decoding.readVarUint8Array(decoder) }
}

/** Joins `room` on `handle` wanting the document; resolves with the joined frame. */
export async function joinDoc(client: Client, handle: number, room: string, presence?: unknown) {
  client.send({
    type: 'join',
    handle,
    room,
    doc: true,
    ...(presence !== undefined && { presence }),
  })
  const joined = await client.next('joined')
  await client.next('presenceSnapshot')
  return joined
}

/**
 * Runs the state-vector exchange for `doc` on `handle`: sends step 1, applies the server's
 * step 2, answers its step 1 with a step 2 numbered `seq` and awaits the ack. Returns the
 * server's step 2 payload (everything the server had that `doc` lacked).
 */
export async function syncDoc(client: Client, handle: number, doc: Y.Doc, seq = 1000) {
  client.send({ type: 'doc', handle, seq: 0, message: step1(doc) })
  const reply = await client.next('doc')
  const theirStep2 = readSync(reply.message)
  if (theirStep2.type !== syncProtocol.messageYjsSyncStep2) throw new Error('expected step 2')
  Y.applyUpdate(doc, theirStep2.payload, 'server')
  const ask = await client.next('doc')
  const theirStep1 = readSync(ask.message)
  if (theirStep1.type !== syncProtocol.messageYjsSyncStep1) throw new Error('expected step 1')
  const encoder = encoding.createEncoder()
  syncProtocol.writeSyncStep2(encoder, doc, theirStep1.payload)
  client.send({ type: 'doc', handle, seq, message: encoding.toUint8Array(encoder) })
  await client.next('ack')
  return theirStep2.payload
}

/** The server's whole document as one update (step 2 against an empty state vector). */
export async function serverState(client: Client, handle: number): Promise<Uint8Array> {
  client.send({ type: 'doc', handle, seq: 0, message: step1(new Y.Doc()) })
  const reply = readSync((await client.next('doc')).message)
  await client.next('doc') // the server's own step 1
  return reply.payload
}

/** The text `name` of the document an update describes. */
export function textOf(update: Uint8Array, name = 't'): string {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, update)
  return doc.getText(name).toString()
}

/** A Yjs update inserting `text` into text `name` of a fresh document. */
export function textUpdate(text: string, name = 't'): Uint8Array {
  const doc = new Y.Doc()
  doc.getText(name).insert(0, text)
  return Y.encodeStateAsUpdate(doc)
}

/** The frames of the next raw message that holds a frame of `type` (other messages are skipped). */
export async function messageWith(who: Client, type: Frame['type']): Promise<Frame[]> {
  for (;;) {
    const frames = unbatch(decodeFrame((await who.socket.next()).data))
    if (frames.some((frame) => frame.type === type)) return frames
  }
}

/** Resolves once `condition()` holds, checking every 5 ms; fails after `timeoutMs`. */
export async function until(
  condition: () => boolean,
  label: string,
  timeoutMs = 5_000,
): Promise<void> {
  const started = Date.now()
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${label}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/** Resolves once the server's stats match `expected` (a subset). */
export function statsReach(
  server: SynclineServer,
  expected: Partial<ReturnType<SynclineServer['stats']>>,
): Promise<void> {
  return until(
    () =>
      Object.entries(expected).every(
        ([key, value]) => server.stats()[key as keyof typeof expected] === value,
      ),
    `stats ${JSON.stringify(expected)} (now ${JSON.stringify(server.stats())})`,
  )
}
