// One room's Y.Doc on this process: loaded from the store before anyone syncs, every later update
// handed to the room's persistence writer, and torn down (listener, writer, doc) in one place so
// no document, timer or listener outlives it — including after a failed load.
import * as Y from 'yjs'
import {
  createDocumentPersistence,
  type DocumentPersistence,
  type DocumentPersistenceError,
} from './documentPersistence'
import type { DocumentStore } from './documentStore'
import type { PersistenceOptions } from './options'

/** Transaction origin of the stored state applied by {@link RoomDocument.load}; never persisted again. */
export const loadOrigin: unique symbol = Symbol('syncline.load')

/** Transaction origin of updates that came from another server process over the bus. */
export const busOrigin: unique symbol = Symbol('syncline.bus')

/** Options of a {@link RoomDocument}. */
export interface RoomDocumentOptions {
  room: string
  store: DocumentStore
  persistence: Required<PersistenceOptions>
  /** Store failures of the writer (never thrown). */
  onPersistenceError: (error: DocumentPersistenceError) => void
  /**
   * Every update applied after the load, with its transaction origin (a membership, or
   * {@link busOrigin}). Called synchronously inside `Y.applyUpdate`, after the update was handed
   * to persistence.
   */
  onUpdate: (update: Uint8Array, origin: unknown) => void
}

/** Where a {@link RoomDocument} is in its life. */
export type RoomDocumentState = 'new' | 'loading' | 'loaded' | 'disposed'

/**
 * A room's shared document and its persistence writer. Created empty; {@link load} fills it from
 * the store and only then starts persisting and reporting updates, so the stored state is never
 * written back and a failed load writes nothing.
 */
export class RoomDocument {
  /** The shared document. Read it; change it only through {@link apply} / {@link applyRemote}. */
  readonly doc = new Y.Doc()
  readonly #writer: DocumentPersistence
  readonly #onUpdate: RoomDocumentOptions['onUpdate']
  #state: RoomDocumentState = 'new'

  readonly #handleUpdate = (update: Uint8Array, origin: unknown): void => {
    if (origin === loadOrigin) return
    this.#writer.push(update)
    this.#onUpdate(update, origin)
  }

  constructor(options: RoomDocumentOptions) {
    this.#onUpdate = options.onUpdate
    this.#writer = createDocumentPersistence({
      store: options.store,
      room: options.room,
      ...options.persistence,
      onError: options.onPersistenceError,
    })
  }

  /** Where the document is in its life. */
  get state(): RoomDocumentState {
    return this.#state
  }

  /** Updates handed to the writer and not stored yet. */
  get pendingWrites(): number {
    return this.#writer.pendingUpdates
  }

  /**
   * Loads the stored document. Rejects when the store cannot be read or holds bytes that are
   * not Yjs updates; the caller must then refuse its joins and {@link dispose} this document
   * (which writes nothing, because nothing was pushed).
   */
  async load(): Promise<void> {
    if (this.#state !== 'new') throw new Error(`document already ${this.#state}`)
    this.#state = 'loading'
    const stored = await this.#writer.load()
    if (this.#state !== 'loading') throw new Error('document disposed while loading')
    if (stored !== null) Y.applyUpdate(this.doc, stored, loadOrigin)
    this.doc.on('update', this.#handleUpdate)
    this.#state = 'loaded'
  }

  /**
   * Applies validated updates in ONE transaction on behalf of `origin` (the membership that sent
   * them all, or `undefined` for several members' writes): one `update` event — so one
   * persistence entry and one relay — however many updates. Throws only if Yjs does; the caller
   * decoded every update completely beforehand.
   */
  apply(updates: readonly Uint8Array[], origin: object | undefined): void {
    if (this.#state !== 'loaded') throw new Error(`document is ${this.#state}`)
    const doc = this.doc
    if (updates.length === 1) {
      Y.applyUpdate(doc, updates[0] as Uint8Array, origin)
      return
    }
    Y.transact(
      doc,
      () => {
        for (const update of updates) Y.applyUpdate(doc, update, origin)
      },
      origin,
    )
  }

  /** Applies an update from another server process ({@link busOrigin}). */
  applyRemote(update: Uint8Array): void {
    if (this.#state !== 'loaded') return
    Y.applyUpdate(this.doc, update, busOrigin)
  }

  /**
   * Stops reporting updates, destroys the doc, then flushes and disposes the writer (its last
   * batch is saved; a failure is reported as `'unsaved'`). Idempotent; never rejects.
   */
  async dispose(): Promise<void> {
    if (this.#state === 'disposed') return
    this.#state = 'disposed'
    this.doc.off('update', this.#handleUpdate)
    this.doc.destroy()
    await this.#writer.dispose()
  }
}
