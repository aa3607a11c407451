// The behaviour every DocumentStore must have, written once and run against each store (memory,
// SQLite, later Redis), with real Yjs documents so "loses nothing" means the text is all there.

import { afterEach, describe, expect, it } from 'vitest'
import type { DocumentStore, StoredDocument } from '../../server/src/documentStore'

/** The part of `Y.Text` the contract uses. */
export interface ContractYText {
  insert(index: number, text: string): void
  delete(index: number, length: number): void
  toString(): string
  readonly length: number
}

/** The part of `Y.Doc` the contract uses. */
export interface ContractYDoc {
  getText(name?: string): ContractYText
  destroy(): void
}

/**
 * The part of the `yjs` module the contract uses. test-utils does not depend on yjs; the caller
 * passes its own (`import * as Y from 'yjs'`), so documents and updates come from one copy.
 */
export interface ContractYjs<Doc extends ContractYDoc = ContractYDoc> {
  // The document type is inferred from the constructor only (NoInfer elsewhere).
  Doc: new () => Doc
  applyUpdate(doc: NoInfer<Doc>, update: Uint8Array): void
  encodeStateAsUpdate(doc: NoInfer<Doc>, encodedTargetStateVector?: Uint8Array): Uint8Array
  encodeStateVector(doc: NoInfer<Doc>): Uint8Array
  mergeUpdates(updates: Uint8Array[]): Uint8Array
}

/** Options of {@link describeDocumentStoreContract}. */
export interface DocumentStoreContractOptions<Doc extends ContractYDoc = ContractYDoc> {
  /** Creates a fresh, empty store; the suite closes it after each test. */
  create: () => DocumentStore | Promise<DocumentStore>
  /** The `yjs` module. */
  Y: ContractYjs<Doc>
}

/**
 * Registers (with vitest's `describe`) the tests every {@link DocumentStore} must pass: unknown
 * rooms, append and load, compaction (also concurrent with appends and stale), delete, room
 * isolation, byte ownership and close. Store-specific behaviour (files, corruption) is tested
 * next to each store.
 */
export function describeDocumentStoreContract<Doc extends ContractYDoc>(
  name: string,
  options: DocumentStoreContractOptions<Doc>,
): void {
  const { Y } = options

  describe(`DocumentStore contract: ${name}`, () => {
    const opened: DocumentStore[] = []
    const docs: Doc[] = []

    async function createStore(): Promise<DocumentStore> {
      const store = await options.create()
      opened.push(store)
      return store
    }

    function createDoc(): Doc {
      const doc = new Y.Doc()
      docs.push(doc)
      return doc
    }

    afterEach(async () => {
      for (const doc of docs.splice(0)) doc.destroy()
      await Promise.all(opened.splice(0).map((store) => store.close()))
    })

    /** Applies `change` to `doc` and returns the Yjs update it produced. */
    function edit(doc: Doc, change: (text: ContractYText) => void): Uint8Array {
      const before = Y.encodeStateVector(doc)
      change(doc.getText('text'))
      return Y.encodeStateAsUpdate(doc, before)
    }

    function type(doc: Doc, words: string): Uint8Array {
      return edit(doc, (text) => text.insert(text.length, words))
    }

    /** A fresh document holding what was stored. */
    function rebuild(stored: StoredDocument): Doc {
      const doc = createDoc()
      if (stored.snapshot) Y.applyUpdate(doc, stored.snapshot)
      for (const update of stored.updates) Y.applyUpdate(doc, update)
      return doc
    }

    function merge(stored: StoredDocument): Uint8Array {
      return Y.mergeUpdates(stored.snapshot ? [stored.snapshot, ...stored.updates] : stored.updates)
    }

    async function loadOrFail(store: DocumentStore, room: string): Promise<StoredDocument> {
      const stored = await store.load(room)
      if (!stored) throw new Error(`room ${room} should be stored`)
      return stored
    }

    function expectSameDocument(actual: Doc, expected: Doc): void {
      expect(actual.getText('text').toString()).toBe(expected.getText('text').toString())
      expect(Y.encodeStateAsUpdate(actual)).toEqual(Y.encodeStateAsUpdate(expected))
    }

    it('loads an unknown room as null', async () => {
      const store = await createStore()
      expect(await store.load('never-stored')).toBeNull()
    })

    it('loads what was appended: same text, same Yjs state', async () => {
      const store = await createStore()
      const doc = createDoc()
      await store.append('room', [type(doc, 'Hello'), type(doc, ', world')])
      await store.append('room', [edit(doc, (text) => text.delete(0, 1))])
      await store.append('room', [edit(doc, (text) => text.insert(0, 'J'))])

      const stored = await loadOrFail(store, 'room')
      expect(stored.snapshot).toBeNull()
      expect(stored.updates).toHaveLength(4)
      expect(stored.updates.every((update) => update instanceof Uint8Array)).toBe(true)
      const loaded = rebuild(stored)
      expect(loaded.getText('text').toString()).toBe('Jello, world')
      expectSameDocument(loaded, doc)
    })

    it('keeps updates in append order', async () => {
      const store = await createStore()
      const doc = createDoc()
      const updates = ['a', 'b', 'c', 'd'].map((letter) => type(doc, letter))
      for (const update of updates) await store.append('room', [update])
      expect((await loadOrFail(store, 'room')).updates).toEqual(updates)
    })

    it('stores nothing for an empty batch', async () => {
      const store = await createStore()
      await store.append('room', [])
      expect(await store.load('room')).toBeNull()
    })

    it('keeps rooms apart, whatever their names', async () => {
      const store = await createStore()
      const names = ['a', 'A', 'a/b', 'ünïcødé 🎉', "it's; DROP TABLE", '']
      const expected = new Map<string, Doc>()
      for (const room of names) {
        const doc = createDoc()
        await store.append(room, [type(doc, `text of ${room}`)])
        expected.set(room, doc)
      }
      for (const room of names) {
        expectSameDocument(rebuild(await loadOrFail(store, room)), expected.get(room)!)
      }
      await store.delete('a')
      expect(await store.load('a')).toBeNull()
      expect(await store.load('A')).not.toBeNull()
    })

    it('owns its bytes: mutating a buffer after append or load changes nothing', async () => {
      const store = await createStore()
      const doc = createDoc()
      const update = type(doc, 'original')
      const copy = update.slice()
      await store.append('room', [update])
      update.fill(0)
      const first = await loadOrFail(store, 'room')
      expect(first.updates[0]).toEqual(copy)
      first.updates[0]!.fill(0)
      expect((await loadOrFail(store, 'room')).updates[0]).toEqual(copy)
    })

    it('round-trips a large update byte for byte', async () => {
      const store = await createStore()
      const doc = createDoc()
      const update = type(doc, 'x'.repeat(1_000_000))
      await store.append('room', [update])
      const stored = await loadOrFail(store, 'room')
      // A byte loop: vitest's deep equality takes seconds on a megabyte.
      const loaded = stored.updates[0]!
      expect(loaded.byteLength).toBe(update.byteLength)
      expect(loaded.every((byte, index) => byte === update[index])).toBe(true)
    })

    it('compacts: same document after, and the log shrank to one snapshot', async () => {
      const store = await createStore()
      const doc = createDoc()
      for (let i = 0; i < 20; i++) await store.append('room', [type(doc, `${i} `)])
      await store.append('room', [edit(doc, (text) => text.delete(0, 10))])

      const before = await loadOrFail(store, 'room')
      expect(before.updates).toHaveLength(21)
      await store.compact('room', merge(before), before.position)

      const after = await loadOrFail(store, 'room')
      expect(after.snapshot).not.toBeNull()
      expect(after.updates).toHaveLength(0)
      expect(after.position).toBe(before.position)
      expectSameDocument(rebuild(after), doc)
      expectSameDocument(rebuild(after), rebuild(before))
    })

    it('compacts again on top of a snapshot', async () => {
      const store = await createStore()
      const doc = createDoc()
      await store.append('room', [type(doc, 'one ')])
      const first = await loadOrFail(store, 'room')
      await store.compact('room', merge(first), first.position)
      await store.append('room', [type(doc, 'two ')])
      await store.append('room', [type(doc, 'three')])

      const second = await loadOrFail(store, 'room')
      expect(second.updates).toHaveLength(2)
      await store.compact('room', merge(second), second.position)
      const third = await loadOrFail(store, 'room')
      expect(third.updates).toHaveLength(0)
      expectSameDocument(rebuild(third), doc)
    })

    it('keeps updates appended between load and compact', async () => {
      const store = await createStore()
      const doc = createDoc()
      await store.append('room', [type(doc, 'before ')])
      await store.append('room', [type(doc, 'load ')])
      const loaded = await loadOrFail(store, 'room')
      await store.append('room', [type(doc, 'after load ')])
      await store.compact('room', merge(loaded), loaded.position)
      await store.append('room', [type(doc, 'after compact')])

      const stored = await loadOrFail(store, 'room')
      expect(stored.snapshot).not.toBeNull()
      expect(stored.updates).toHaveLength(2)
      expect(stored.position).toBeGreaterThan(loaded.position)
      expectSameDocument(rebuild(stored), doc)
      expect(rebuild(stored).getText('text').toString()).toBe(
        'before load after load after compact',
      )
    })

    it('loses nothing when compactions race with appends from several writers', async () => {
      const store = await createStore()
      const writers = [createDoc(), createDoc(), createDoc()]
      const all = createDoc()
      // A small deterministic generator: the interleaving is random-looking but reproducible.
      let seed = 42
      const next = (n: number): number => {
        seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648
        return seed % n
      }
      for (let round = 0; round < 30; round++) {
        const work: Promise<void>[] = []
        for (const [index, writer] of writers.entries()) {
          const text = writer.getText('text')
          const update =
            next(4) === 0 && text.length > 2
              ? edit(writer, (t) => t.delete(next(t.length - 1), 1))
              : edit(writer, (t) => t.insert(next(t.length + 1), `${index}:${round} `))
          Y.applyUpdate(all, update)
          work.push(store.append('room', [update]))
        }
        if (next(3) === 0) {
          work.splice(
            next(work.length + 1),
            0,
            store.load('room').then((stored) => {
              if (stored) return store.compact('room', merge(stored), stored.position)
            }),
          )
        }
        await Promise.all(work)
      }
      expectSameDocument(rebuild(await loadOrFail(store, 'room')), all)
    })

    it('ignores a stale compaction (older position than the last one)', async () => {
      const store = await createStore()
      const doc = createDoc()
      await store.append('room', [type(doc, 'one ')])
      const old = await loadOrFail(store, 'room')
      await store.append('room', [type(doc, 'two')])
      const recent = await loadOrFail(store, 'room')
      await store.compact('room', merge(recent), recent.position)
      const compacted = await loadOrFail(store, 'room')

      await store.compact('room', merge(old), old.position)
      expect(await loadOrFail(store, 'room')).toEqual(compacted)
      expectSameDocument(rebuild(compacted), doc)
    })

    it('does not resurrect a room deleted before its compaction ran', async () => {
      const store = await createStore()
      const doc = createDoc()
      await store.append('room', [type(doc, 'gone')])
      const loaded = await loadOrFail(store, 'room')
      await store.delete('room')
      await store.compact('room', merge(loaded), loaded.position)
      expect(await store.load('room')).toBeNull()
    })

    it('deletes a room and never reuses its positions', async () => {
      const store = await createStore()
      const doc = createDoc()
      await store.append('room', [type(doc, 'first life')])
      const first = await loadOrFail(store, 'room')
      await store.delete('room')
      expect(await store.load('room')).toBeNull()
      await store.delete('room')
      await store.delete('never-stored')

      const reborn = createDoc()
      await store.append('room', [type(reborn, 'second life')])
      const second = await loadOrFail(store, 'room')
      expect(second.position).toBeGreaterThan(first.position)
      expect(rebuild(second).getText('text').toString()).toBe('second life')
    })

    it('rejects every call after close, and close is idempotent', async () => {
      const store = await createStore()
      const doc = createDoc()
      const update = type(doc, 'x')
      await store.append('room', [update])
      await store.close()
      await store.close()
      await expect(store.load('room')).rejects.toThrow()
      await expect(store.append('room', [update])).rejects.toThrow()
      await expect(store.compact('room', update, 1)).rejects.toThrow()
      await expect(store.delete('room')).rejects.toThrow()
    })
  })
}
