// An in-memory stand-in for the server's document side, so DocSync can be tested without
// sockets: the test decides when each frame travels, and can hold, reorder or drop them.
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { messageYjsSyncStep1, readSyncMessage, writeSyncStep1, writeUpdate } from 'y-protocols/sync'
import * as Y from 'yjs'
import { DocSync, type DocSyncOptions } from '../docSync'
import type { SynclineError } from '../errors'

/** A frame from a client to the server. */
export interface ClientFrame {
  seq: number
  message: Uint8Array
}

/** A frame from the server to a client. */
export type ServerFrame = { kind: 'doc'; message: Uint8Array } | { kind: 'ack'; seq: number }

/** Sync message type (step 1 = 0, step 2 = 1, update = 2) of an encoded message. */
export function messageType(message: Uint8Array): number {
  return decoding.readVarUint(decoding.createDecoder(message))
}

/** One connection: two queues the test drains at will. */
export class FakeConnection {
  /** Client → server frames not yet processed, in send order. */
  readonly toServer: ClientFrame[] = []
  /** Server → client frames not yet delivered, in send order. */
  readonly toClient: ServerFrame[] = []
  /** Every frame the client sent on this connection, processed or not. */
  readonly sent: ClientFrame[] = []
  open = true

  constructor(
    readonly server: FakeDocServer,
    readonly client: TestClient,
  ) {}

  /** The link handed to DocSync. */
  readonly link = {
    send: (seq: number, message: Uint8Array): void => {
      if (!this.open) throw new Error('send on a closed connection')
      const frame = { seq, message: message.slice() }
      this.sent.push(frame)
      this.toServer.push(frame)
    },
  }

  /** Processes up to `count` client frames in order; returns how many were processed. */
  deliverToServer(count = Number.POSITIVE_INFINITY): number {
    let done = 0
    while (done < count && this.open && this.toServer.length > 0) {
      const frame = this.toServer.shift() as ClientFrame
      this.server.process(this, frame)
      done++
    }
    return done
  }

  /** Delivers the server frame at `index` (default the oldest); false if there is none. */
  deliverToClient(index = 0): boolean {
    if (!this.open || index >= this.toClient.length) return false
    const [frame] = this.toClient.splice(index, 1) as [ServerFrame]
    if (frame.kind === 'doc') this.client.sync.receive(frame.message)
    else this.client.sync.ack(frame.seq)
    return true
  }

  /** Delivers every pending server frame in order. */
  flushToClient(): void {
    while (this.deliverToClient()) {}
  }
}

/** A client: a doc, its DocSync, and its current connection. */
export class TestClient {
  readonly sync: DocSync
  readonly errors: SynclineError[] = []
  connection: FakeConnection | null = null

  constructor(
    readonly server: FakeDocServer,
    readonly name: string,
    options: DocSyncOptions = {},
    readonly doc: Y.Doc = new Y.Doc(),
  ) {
    this.sync = new DocSync(this.doc, { onError: (error) => this.errors.push(error), ...options })
  }

  /** Opens a new connection and attaches it (the room was joined). */
  connect(): FakeConnection {
    const connection = new FakeConnection(this.server, this)
    this.connection = connection
    this.server.connections.add(connection)
    this.sync.connect(connection.link)
    return connection
  }

  /** The connection dropped: everything in flight is lost in both directions. */
  disconnect(): void {
    const connection = this.connection
    if (connection === null) return
    connection.open = false
    connection.toServer.length = 0
    connection.toClient.length = 0
    this.server.connections.delete(connection)
    this.connection = null
    this.sync.disconnect()
  }

  get text(): string {
    return this.doc.getText('t').toString()
  }
}

/**
 * The server's side: applies client frames strictly in order, answers step 1 with step 2 and
 * its own step 1, acks numbered frames after applying them, and relays applied updates to the
 * other connections.
 */
export class FakeDocServer {
  readonly doc = new Y.Doc()
  readonly connections = new Set<FakeConnection>()

  constructor() {
    this.doc.on('update', (update: Uint8Array, origin: unknown) => {
      const encoder = encoding.createEncoder()
      writeUpdate(encoder, update)
      const message = encoding.toUint8Array(encoder)
      for (const connection of this.connections) {
        if (connection !== origin) connection.toClient.push({ kind: 'doc', message })
      }
    })
  }

  /** A new client with its own doc, not yet connected. */
  client(name: string, options: DocSyncOptions = {}, doc?: Y.Doc): TestClient {
    return new TestClient(this, name, options, doc)
  }

  process(connection: FakeConnection, frame: ClientFrame): void {
    const decoder = decoding.createDecoder(frame.message)
    const reply = encoding.createEncoder()
    const type = readSyncMessage(decoder, reply, this.doc, connection)
    if (type === messageYjsSyncStep1) {
      connection.toClient.push({ kind: 'doc', message: encoding.toUint8Array(reply) })
      const step1 = encoding.createEncoder()
      writeSyncStep1(step1, this.doc)
      connection.toClient.push({ kind: 'doc', message: encoding.toUint8Array(step1) })
    }
    if (frame.seq > 0) connection.toClient.push({ kind: 'ack', seq: frame.seq })
  }

  /** Runs every connection's traffic, in order, until nothing is in flight. */
  settle(): void {
    for (let round = 0; round < 1000; round++) {
      let moved = false
      for (const connection of [...this.connections]) {
        if (connection.deliverToServer() > 0) moved = true
        if (connection.toClient.length > 0) {
          connection.flushToClient()
          moved = true
        }
      }
      if (!moved) return
    }
    throw new Error('traffic did not settle')
  }
}
