// Keeps a Y.Doc in sync with the server over any link that carries y-protocols sync messages, so
// the rules users were burnt by elsewhere ("synced" before the server loaded the document, a
// pending-writes counter that drifts) are decided in one place that tests can drive without sockets.
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { atom, type ReadableAtom } from 'nanostores'
import {
  messageYjsSyncStep1,
  messageYjsSyncStep2,
  messageYjsUpdate,
  writeSyncStep1,
  writeSyncStep2,
  writeUpdate,
} from 'y-protocols/sync'
import * as Y from 'yjs'
import { describeError, SynclineError } from './errors'

/**
 * Transaction origin of every update {@link DocSync} applies on behalf of the server.
 *
 * It is how local edits are told from remote ones: DocSync does not send transactions with this
 * origin back, and an undo manager that does not track it (see `createUndoManager`) never undoes
 * another user's edit. Every other origin (including `null`, the default of `doc.transact`) counts
 * as a local edit and is sent to the server.
 */
export const remoteOrigin: unique symbol = Symbol('syncline.remote')

/**
 * Where {@link DocSync} sends its messages: in a room, a `doc` frame on the room's current handle.
 */
export interface DocLink {
  /**
   * Sends one y-protocols sync message. `seq` > 0 asks the server to answer with an `ack` carrying
   * that `seq` once it has applied the message; 0 means no ack is wanted. May throw (for example
   * `payload_too_large`): the message then counts as not sent and is carried by the next
   * state-vector exchange instead.
   */
  send(seq: number, message: Uint8Array): void
}

/**
 * Where a DocSync error arose, in `error.details.stage`: `decode` — the server's message was
 * malformed and the doc is untouched; `apply` — it decoded but applying it failed, so the doc may
 * hold part of it; `send` — the link refused a message, which stays pending.
 */
export type DocSyncErrorStage = 'decode' | 'apply' | 'send'

/** Options of {@link DocSync}. */
export interface DocSyncOptions {
  /** Destroy the Y.Doc in {@link DocSync.destroy}. Default `false`: the doc belongs to the caller. */
  ownsDoc?: boolean
  /**
   * Called when a message from the server could not be applied (malformed, unknown type) or a
   * send failed, with a `protocol_error` whose `details.stage` says which (see
   * {@link DocSyncErrorStage}); a SynclineError thrown by the link is passed on as it is.
   * DocSync itself never throws from `receive`; the room should surface these as its `error`
   * event. Default: ignored.
   */
  onError?: (error: SynclineError) => void
}

type ParsedMessage =
  | { type: typeof messageYjsSyncStep1; stateVector: Uint8Array }
  | { type: typeof messageYjsSyncStep2 | typeof messageYjsUpdate; update: Uint8Array }

/**
 * Decodes a sync message completely before anything touches the document. y-protocols' readers
 * apply as they read, and Yjs integrates structs before it reads the delete set, so a message
 * truncated in its delete set would leave a half-applied update behind. Validating first costs
 * one extra parse of the update; applying it costs far more.
 */
function parseSyncMessage(message: Uint8Array): ParsedMessage {
  const decoder = decoding.createDecoder(message)
  const type = decoding.readVarUint(decoder)
  const payload = decoding.readVarUint8Array(decoder)
  if (decoding.hasContent(decoder)) {
    throw new Error(`${message.byteLength - decoder.pos} trailing bytes after the sync message`)
  }
  switch (type) {
    case messageYjsSyncStep1:
      Y.decodeStateVector(payload)
      return { type, stateVector: payload }
    case messageYjsSyncStep2:
    case messageYjsUpdate:
      Y.decodeUpdate(payload)
      return { type, update: payload }
    default:
      throw new Error(`unknown sync message type ${type}`)
  }
}

/**
 * Keeps one Y.Doc in sync with the server through a {@link DocLink}, independent of sockets.
 *
 * Local edits go out at once as sync `update` messages, each with a new `seq`. While there is no
 * link they simply stay in the doc: nothing is replayed one by one. On reconnect the state-vector
 * exchange (our step 1 → the server's step 2 and step 1 → our step 2) carries everything the
 * server lacks as ONE update that Yjs has already merged.
 *
 * `synced` is derived from positions, not counted: the highest `seq` that carries local changes
 * versus the highest `seq` acknowledged on the current connection. Seqs keep growing across
 * connections, so an ack that belongs to an earlier connection is recognised and ignored rather
 * than clearing writes it never covered.
 */
export class DocSync {
  /** The document kept in sync. */
  readonly doc: Y.Doc
  readonly #ownsDoc: boolean
  readonly #onError: ((error: SynclineError) => void) | undefined
  readonly #synced = atom(false)
  readonly #hasPendingWrites = atom(false)
  #link: DocLink | null = null
  #destroyed = false
  /** Next seq to hand out; never reset, so seqs of different connections never collide. */
  #nextSeq = 1
  /** First seq handed out on the current connection; acks below it are stale. */
  #connectionFirstSeq = 1
  /** Highest seq on the current connection that carries local changes (0: none). */
  #lastLocalSeq = 0
  /** Highest seq the server acknowledged on the current connection (0: none). */
  #ackedSeq = 0
  /** Local changes no frame on the current connection carries yet (edited offline, or sent on a
   * connection that dropped before its ack). The next state-vector exchange carries them. */
  #unsentLocal: boolean
  /** The server's step 2 arrived on this connection: it has loaded the document. */
  #serverLoaded = false

  readonly #onUpdate = (update: Uint8Array, origin: unknown): void => {
    if (origin === remoteOrigin) return
    if (this.#link === null) {
      this.#unsentLocal = true
    } else {
      const encoder = encoding.createEncoder()
      writeUpdate(encoder, update)
      this.#sendLocal(encoding.toUint8Array(encoder))
    }
    this.#refresh()
  }

  readonly #onDocDestroy = (): void => {
    this.destroy()
  }

  /**
   * Starts observing `doc`. Content the doc already holds (loaded from local persistence, say)
   * may be missing on the server, so it counts as a pending write until a connection's
   * state-vector exchange has carried it and been acknowledged.
   */
  constructor(doc: Y.Doc, options: DocSyncOptions = {}) {
    this.doc = doc
    this.#ownsDoc = options.ownsDoc ?? false
    this.#onError = options.onError
    this.#unsentLocal = doc.store.clients.size > 0
    doc.on('update', this.#onUpdate)
    doc.on('destroy', this.#onDocDestroy)
    this.#refresh()
  }

  /**
   * True when the server has loaded the document for the current connection (its step 2 arrived)
   * AND has acknowledged every local change. False while disconnected.
   */
  get synced(): ReadableAtom<boolean> {
    return this.#synced
  }

  /**
   * True from a local edit until the server acknowledged a frame that carries it, including while
   * offline with edits not yet sent. Use it for "saving…" indicators and to warn before unload.
   */
  get hasPendingWrites(): ReadableAtom<boolean> {
    return this.#hasPendingWrites
  }

  /** Whether a link is attached (between {@link connect} and {@link disconnect}). */
  get connected(): boolean {
    return this.#link !== null
  }

  /**
   * Attaches a link: call it each time the room is (re)joined on a fresh connection. Sends sync
   * step 1 (our state vector) so the server answers with what we lack and asks for what it lacks.
   * Calling it while connected first forgets the previous link, as {@link disconnect} would.
   */
  connect(link: DocLink): void {
    if (this.#destroyed) return
    if (this.#link !== null) this.disconnect()
    this.#link = link
    this.#connectionFirstSeq = this.#nextSeq
    this.#serverLoaded = false
    const encoder = encoding.createEncoder()
    writeSyncStep1(encoder, this.doc)
    this.#send(0, encoding.toUint8Array(encoder))
    this.#refresh()
  }

  /**
   * Forgets the link and every in-flight seq: the connection is gone, so its acks will never come.
   * Local changes that were in flight stay pending and travel with the next state-vector exchange.
   */
  disconnect(): void {
    if (this.#link === null) return
    this.#link = null
    if (this.#lastLocalSeq > this.#ackedSeq) this.#unsentLocal = true
    this.#lastLocalSeq = 0
    this.#ackedSeq = 0
    this.#serverLoaded = false
    this.#refresh()
  }

  /**
   * Handles a y-protocols sync message from the server: step 1 is answered with step 2 (what the
   * server lacks); step 2 and updates are applied with {@link remoteOrigin}, so they are not sent
   * back. Never throws: a malformed message is decoded in full before anything is applied, then
   * reported through `onError`, leaving the doc untouched. Ignored while no link is attached (a
   * late message of a dead connection).
   */
  receive(message: Uint8Array): void {
    if (this.#link === null) return
    let parsed: ParsedMessage
    try {
      parsed = parseSyncMessage(message)
    } catch (error) {
      this.#report(
        `The server sent a malformed document sync message (${describeError(error)}); it was ignored.`,
        error,
        'decode',
      )
      return
    }
    if (parsed.type === messageYjsSyncStep1) {
      this.#answerStep1(parsed.stateVector)
      return
    }
    try {
      Y.applyUpdate(this.doc, parsed.update, remoteOrigin)
    } catch (error) {
      // The message decoded, so either an observer of the doc threw, or the update is
      // well-formed but inconsistent (it names positions that do not exist). Yjs has no
      // rollback, and proving consistency beforehand would mean applying it to a copy of the
      // whole doc on every keystroke, so this stage is reported as possibly partial.
      this.#report(
        `Applying a document update from the server failed (${describeError(error)}); the document may hold part of it.`,
        error,
        'apply',
      )
    }
    if (parsed.type === messageYjsSyncStep2 && this.#link !== null) {
      this.#serverLoaded = true
      this.#refresh()
    }
  }

  /**
   * The server applied frame `seq` on the current connection, and with in-order processing every
   * earlier one too. Acks of earlier connections and seqs never sent are ignored.
   */
  ack(seq: number): void {
    if (this.#link === null) return
    if (!Number.isSafeInteger(seq) || seq < this.#connectionFirstSeq || seq >= this.#nextSeq) return
    if (seq <= this.#ackedSeq) return
    this.#ackedSeq = seq
    this.#refresh()
  }

  /**
   * Stops observing the doc (and destroys it if `ownsDoc`). DocSync holds no timers, so nothing
   * of it outlives this call. Safe to call more than once.
   */
  destroy(): void {
    if (this.#destroyed) return
    this.#destroyed = true
    this.#link = null
    this.doc.off('update', this.#onUpdate)
    this.doc.off('destroy', this.#onDocDestroy)
    this.#synced.set(false)
    if (this.#ownsDoc) this.doc.destroy()
  }

  #answerStep1(stateVector: Uint8Array): void {
    const encoder = encoding.createEncoder()
    writeSyncStep2(encoder, this.doc, stateVector)
    const message = encoding.toUint8Array(encoder)
    if (this.#unsentLocal) {
      // This step 2 is what carries the edits of the offline spell (and of the dead connection):
      // the writes stay pending until the server acks it.
      this.#unsentLocal = false
      this.#sendLocal(message)
    } else {
      this.#send(0, message)
    }
    this.#refresh()
  }

  /** Sends a message that carries local changes, numbered so its ack clears them. */
  #sendLocal(message: Uint8Array): void {
    const seq = this.#nextSeq++
    if (this.#send(seq, message)) {
      this.#lastLocalSeq = seq
    } else {
      this.#unsentLocal = true
    }
  }

  #send(seq: number, message: Uint8Array): boolean {
    const link = this.#link
    if (link === null) return false
    try {
      link.send(seq, message)
      return true
    } catch (error) {
      if (error instanceof SynclineError) {
        this.#onError?.(error)
      } else {
        this.#report(
          `Sending a document sync message failed: ${describeError(error)}`,
          error,
          'send',
        )
      }
      return false
    }
  }

  #report(message: string, cause: unknown, stage: DocSyncErrorStage): void {
    this.#onError?.(new SynclineError('protocol_error', message, { cause, details: { stage } }))
  }

  #refresh(): void {
    const pending = this.#unsentLocal || this.#lastLocalSeq > this.#ackedSeq
    this.#hasPendingWrites.set(pending)
    this.#synced.set(this.#link !== null && this.#serverLoaded && !pending && !this.#destroyed)
  }
}
