// Timing and failure rules of the per-room document writer, with fake timers: debounce and
// max wait, one merged append per batch, compaction past the thresholds, errors reported and
// batches retried rather than lost, and nothing left behind after dispose.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import {
  createDocumentPersistence,
  DOCUMENT_PERSISTENCE_DEFAULTS,
  type DocumentPersistence,
  type DocumentPersistenceError,
  type DocumentPersistenceOptions,
  loadDocument,
} from '../documentPersistence'
import type { DocumentStore } from '../documentStore'
import { createMemoryStore } from '../memoryStore'

const ROOM = 'room'

/** Input counts of every `Y.mergeUpdates` call (the writer's merge bound is checked on these). */
const mergeInputs = vi.hoisted((): number[] => [])
vi.mock('yjs', async (importOriginal) => {
  const actual = await importOriginal<typeof import('yjs')>()
  return {
    ...actual,
    mergeUpdates: (updates: Uint8Array[]) => {
      mergeInputs.push(updates.length)
      return actual.mergeUpdates(updates)
    },
  }
})

let store: DocumentStore
let doc: Y.Doc
let errors: DocumentPersistenceError[]
let writer: DocumentPersistence | undefined

beforeEach(() => {
  vi.useFakeTimers()
  store = createMemoryStore()
  doc = new Y.Doc()
  errors = []
})

afterEach(async () => {
  await writer?.dispose()
  writer = undefined
  doc.destroy()
  await store.close()
  vi.useRealTimers()
})

/** A writer fed by `doc`'s updates, as a room wires it. */
function connect(options: Partial<DocumentPersistenceOptions> = {}): DocumentPersistence {
  const created = createDocumentPersistence({
    store,
    room: ROOM,
    onError: (error) => errors.push(error),
    ...options,
  })
  doc.on('update', (update: Uint8Array) => created.push(update))
  writer = created
  return created
}

function type(words: string): void {
  const text = doc.getText('text')
  text.insert(text.length, words)
}

/** What a fresh document loaded from the store looks like. */
async function stored(): Promise<Y.Doc> {
  const loaded = new Y.Doc()
  const update = await loadDocument(store, ROOM)
  if (update) Y.applyUpdate(loaded, update)
  return loaded
}

async function expectStoredEqualsDoc(): Promise<void> {
  const loaded = await stored()
  expect(loaded.getText('text').toString()).toBe(doc.getText('text').toString())
  expect(Y.encodeStateAsUpdate(loaded)).toEqual(Y.encodeStateAsUpdate(doc))
  loaded.destroy()
}

describe('loadDocument', () => {
  it('returns null for a room never stored', async () => {
    expect(await loadDocument(store, ROOM)).toBeNull()
  })

  it('merges the snapshot and the updates after it into one update', async () => {
    const source = new Y.Doc()
    const updates: Uint8Array[] = []
    source.on('update', (update: Uint8Array) => updates.push(update))
    source.getText('text').insert(0, 'snap')
    await store.append(ROOM, updates.splice(0))
    const first = await store.load(ROOM)
    await store.compact(ROOM, Y.mergeUpdates(first!.updates), first!.position)
    source.getText('text').insert(4, 'shot + log')
    await store.append(ROOM, updates.splice(0))

    const loaded = new Y.Doc()
    Y.applyUpdate(loaded, (await loadDocument(store, ROOM))!)
    expect(loaded.getText('text').toString()).toBe('snapshot + log')
  })

  it('throws, never returns null, when the store cannot be read', async () => {
    vi.spyOn(store, 'load').mockRejectedValueOnce(new Error('disk on fire'))
    await expect(loadDocument(store, ROOM)).rejects.toThrow('disk on fire')
  })

  it('throws when the stored bytes are not Yjs updates', async () => {
    await store.append(ROOM, [new Uint8Array([255, 255, 255]), new Uint8Array([1, 2, 3, 4, 5])])
    await expect(loadDocument(store, ROOM)).rejects.toThrow()
  })
})

describe('createDocumentPersistence', () => {
  it('saves a batch once updates pause for debounceMs', async () => {
    const append = vi.spyOn(store, 'append')
    connect()
    type('a')
    await vi.advanceTimersByTimeAsync(300)
    type('b')
    await vi.advanceTimersByTimeAsync(DOCUMENT_PERSISTENCE_DEFAULTS.debounceMs - 1)
    expect(append).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(1)
    expect(append).toHaveBeenCalledTimes(1)
    await expectStoredEqualsDoc()
  })

  it('saves at maxWaitMs under continuous typing', async () => {
    const append = vi.spyOn(store, 'append')
    connect({ debounceMs: 500, maxWaitMs: 2_000 })
    const typing = setInterval(() => type('x'), 100)
    type('start')
    await vi.advanceTimersByTimeAsync(1_999)
    expect(append).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(1)
    expect(append).toHaveBeenCalledTimes(1)
    // The next batch starts with the next update (t = 2100) and waits at most maxWaitMs again.
    await vi.advanceTimersByTimeAsync(2_099)
    expect(append).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(append).toHaveBeenCalledTimes(2)
    clearInterval(typing)
    type('end')
    await vi.advanceTimersByTimeAsync(500)
    expect(append).toHaveBeenCalledTimes(3)
    await expectStoredEqualsDoc()
  })

  it('merges a batch into one update in one append', async () => {
    const append = vi.spyOn(store, 'append')
    const updates: Uint8Array[] = []
    doc.on('update', (update: Uint8Array) => updates.push(update))
    connect()
    type('Hello')
    type(', ')
    doc.getText('text').delete(0, 1)
    type('world')
    await vi.advanceTimersByTimeAsync(DOCUMENT_PERSISTENCE_DEFAULTS.debounceMs)
    expect(append).toHaveBeenCalledTimes(1)
    expect(append.mock.calls[0]![1]).toEqual([Y.mergeUpdates(updates)])
    expect((await store.load(ROOM))?.updates).toHaveLength(1)
    await expectStoredEqualsDoc()
  })

  it('merges a busy batch a bounded run at a time, still into one append', async () => {
    const append = vi.spyOn(store, 'append')
    const persistence = connect({ mergeEvery: 10 })
    // Five typists (their own clientIDs) interleaving single characters, as in a busy room.
    const typists = Array.from({ length: 5 }, () => new Y.Doc())
    for (const typist of typists) Y.applyUpdate(typist, Y.encodeStateAsUpdate(doc))
    mergeInputs.length = 0
    for (let i = 0; i < 500; i++) {
      const typist = typists[i % typists.length]!
      const text = typist.getText('text')
      const before = Y.encodeStateVector(typist)
      text.insert((i * 7) % (text.length + 1), String.fromCharCode(97 + (i % 26)))
      Y.applyUpdate(doc, Y.encodeStateAsUpdate(typist, before))
    }
    expect(persistence.pendingUpdates).toBe(500)
    // Merged while typing (50 runs of 10, 5 merges of 10 runs), and no merge then, nor the
    // save's, takes more than about twice mergeEvery inputs.
    expect(mergeInputs.length).toBeGreaterThanOrEqual(55)
    expect(Math.max(...mergeInputs)).toBeLessThan(2 * 10)
    await vi.advanceTimersByTimeAsync(DOCUMENT_PERSISTENCE_DEFAULTS.debounceMs)
    expect(Math.max(...mergeInputs)).toBeLessThan(2 * 10)
    expect(append).toHaveBeenCalledTimes(1)
    expect(append.mock.calls[0]![1]).toHaveLength(1)
    expect(persistence.pendingUpdates).toBe(0)
    await expectStoredEqualsDoc()
    for (const typist of typists) typist.destroy()
  })

  it('flush() saves at once and clears the pending timer', async () => {
    const append = vi.spyOn(store, 'append')
    const persistence = connect()
    await persistence.flush()
    expect(append).not.toHaveBeenCalled()
    type('now')
    expect(vi.getTimerCount()).toBe(2) // debounce and max wait
    await persistence.flush()
    expect(append).toHaveBeenCalledTimes(1)
    expect(vi.getTimerCount()).toBe(0)
    expect(persistence.pendingUpdates).toBe(0)
    await expectStoredEqualsDoc()
  })

  it('compacts into a snapshot once the log passes compactAfterUpdates', async () => {
    const compact = vi.spyOn(store, 'compact')
    const persistence = connect({ compactAfterUpdates: 3 })
    type('one ')
    await persistence.flush()
    type('two ')
    doc.getText('text').delete(0, 2)
    await persistence.flush()
    expect(compact).not.toHaveBeenCalled()
    type('three')
    await persistence.flush()
    expect(compact).toHaveBeenCalledTimes(1)
    const log = await store.load(ROOM)
    expect(log?.snapshot).not.toBeNull()
    expect(log?.updates).toHaveLength(0)
    await expectStoredEqualsDoc()

    // The count starts again from the snapshot.
    type(' four')
    await persistence.flush()
    type(' five')
    await persistence.flush()
    expect(compact).toHaveBeenCalledTimes(1)
    expect((await store.load(ROOM))?.updates).toHaveLength(2)
  })

  it('compacts once the log passes compactAfterBytes', async () => {
    const compact = vi.spyOn(store, 'compact')
    const persistence = connect({ compactAfterBytes: 1_000 })
    type('small')
    await persistence.flush()
    expect(compact).not.toHaveBeenCalled()
    type('x'.repeat(1_000))
    await persistence.flush()
    expect(compact).toHaveBeenCalledTimes(1)
    await expectStoredEqualsDoc()
  })

  it('counts the log found by load() towards compaction', async () => {
    const seed = createDocumentPersistence({ store, room: ROOM, compactAfterUpdates: 1_000 })
    const source = new Y.Doc()
    source.on('update', (update: Uint8Array) => seed.push(update))
    for (const word of ['a', 'b']) {
      source.getText('text').insert(0, word)
      await seed.flush()
    }
    await seed.dispose()

    const compact = vi.spyOn(store, 'compact')
    const persistence = createDocumentPersistence({ store, room: ROOM, compactAfterUpdates: 3 })
    writer = persistence
    const state = await persistence.load()
    Y.applyUpdate(doc, state!)
    expect(doc.getText('text').toString()).toBe('ba')
    doc.on('update', (update: Uint8Array) => persistence.push(update))
    type('c')
    await persistence.flush()
    expect(compact).toHaveBeenCalledTimes(1)
    await expectStoredEqualsDoc()
    source.destroy()
  })

  it('reports a failed compaction and keeps the log intact', async () => {
    vi.spyOn(store, 'compact').mockRejectedValueOnce(new Error('locked'))
    const persistence = connect({ compactAfterUpdates: 1 })
    type('kept')
    await persistence.flush()
    expect(errors.map((error) => error.code)).toEqual(['compact_failed'])
    expect((await store.load(ROOM))?.snapshot).toBeNull()
    await expectStoredEqualsDoc()
    // Retried after the next append.
    type(' and compacted')
    await persistence.flush()
    expect((await store.load(ROOM))?.updates).toHaveLength(0)
    await expectStoredEqualsDoc()
  })

  it('reports a store error and retries the same batch on the next flush', async () => {
    const append = vi.spyOn(store, 'append').mockRejectedValueOnce(new Error('disk full'))
    const persistence = connect()
    type('not lost')
    await vi.advanceTimersByTimeAsync(DOCUMENT_PERSISTENCE_DEFAULTS.debounceMs)
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatchObject({
      name: 'DocumentPersistenceError',
      code: 'append_failed',
      room: ROOM,
    })
    expect((errors[0]!.cause as Error).message).toBe('disk full')
    expect(errors[0]!.message).toContain('retried')
    expect(persistence.pendingUpdates).toBe(1)
    const failedBatch = append.mock.calls[0]![1][0]!

    type(', nor this')
    await persistence.flush()
    expect(append).toHaveBeenCalledTimes(2)
    // The retry carries the failed batch merged with what came after, in one append.
    expect(append.mock.calls[1]![1]).toHaveLength(1)
    expect(
      Y.diffUpdate(failedBatch, Y.encodeStateVectorFromUpdate(append.mock.calls[1]![1][0]!)),
    ).toEqual(Y.mergeUpdates([]))
    expect(persistence.pendingUpdates).toBe(0)
    await expectStoredEqualsDoc()
    expect(vi.getTimerCount()).toBe(0)
  })

  it('retries on its own with a doubling delay, without hammering the store', async () => {
    const append = vi.spyOn(store, 'append').mockRejectedValue(new Error('offline'))
    connect({ debounceMs: 100, retryDelayMs: 1_000, maxRetryDelayMs: 3_000 })
    type('a')
    await vi.advanceTimersByTimeAsync(100)
    expect(append).toHaveBeenCalledTimes(1)
    // Typing while the store is down does not bring the retry forward.
    type('b')
    await vi.advanceTimersByTimeAsync(999)
    expect(append).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(append).toHaveBeenCalledTimes(2)
    await vi.advanceTimersByTimeAsync(2_000)
    expect(append).toHaveBeenCalledTimes(3)
    await vi.advanceTimersByTimeAsync(3_000) // capped at maxRetryDelayMs
    expect(append).toHaveBeenCalledTimes(4)
    expect(errors.map((error) => error.code)).toEqual(Array(4).fill('append_failed'))

    append.mockRestore()
    await vi.advanceTimersByTimeAsync(3_000)
    await expectStoredEqualsDoc()
    expect(vi.getTimerCount()).toBe(0)
    // Back to the normal debounce after a success.
    const spy = vi.spyOn(store, 'append')
    type('c')
    await vi.advanceTimersByTimeAsync(100)
    expect(spy).toHaveBeenCalledTimes(1)
  })

  it('never runs two store calls at once', async () => {
    let release: () => void = () => {}
    let running = 0
    let maxRunning = 0
    const original = store.append.bind(store)
    vi.spyOn(store, 'append').mockImplementation(async (room, updates) => {
      running += 1
      maxRunning = Math.max(maxRunning, running)
      await new Promise<void>((resolve) => {
        release = resolve
      })
      await original(room, updates)
      running -= 1
    })
    const persistence = connect()
    type('first')
    const first = persistence.flush()
    type(' second')
    const second = persistence.flush()
    await vi.advanceTimersByTimeAsync(0)
    expect(running).toBe(1)
    release()
    await first
    release()
    await second
    expect(maxRunning).toBe(1)
    await expectStoredEqualsDoc()
  })

  it('drops a batch that is not Yjs, reports it, and keeps saving', async () => {
    const persistence = connect()
    persistence.push(new Uint8Array([255, 255, 255]))
    persistence.push(new Uint8Array([1, 2, 3, 4, 5]))
    await persistence.flush()
    expect(errors.map((error) => error.code)).toEqual(['invalid_update'])
    expect(persistence.pendingUpdates).toBe(0)
    type('still saved')
    await persistence.flush()
    await expectStoredEqualsDoc()
  })

  it('keeps working when onError throws', async () => {
    vi.spyOn(store, 'append').mockRejectedValueOnce(new Error('once'))
    const persistence = connect({
      onError: () => {
        throw new Error('bad handler')
      },
    })
    type('x')
    await expect(persistence.flush()).resolves.toBeUndefined()
    await persistence.flush()
    await expectStoredEqualsDoc()
  })

  it('dispose() saves what is pending and leaves no timer', async () => {
    const persistence = connect()
    type('saved on dispose')
    expect(vi.getTimerCount()).toBe(2)
    await persistence.dispose()
    expect(vi.getTimerCount()).toBe(0)
    expect(persistence.pendingUpdates).toBe(0)
    await expectStoredEqualsDoc()
    await persistence.dispose()

    type(' too late')
    expect(errors.map((error) => error.code)).toEqual(['disposed'])
    expect(vi.getTimerCount()).toBe(0)
    expect((await stored()).getText('text').toString()).toBe('saved on dispose')
  })

  it('dispose() with a broken store reports what is lost and still leaves nothing', async () => {
    vi.spyOn(store, 'append').mockRejectedValue(new Error('gone'))
    const persistence = connect()
    type('a')
    await vi.advanceTimersByTimeAsync(DOCUMENT_PERSISTENCE_DEFAULTS.debounceMs)
    expect(vi.getTimerCount()).toBe(1) // the retry
    await persistence.dispose()
    expect(errors.map((error) => error.code)).toEqual(['append_failed', 'append_failed', 'unsaved'])
    expect(vi.getTimerCount()).toBe(0)
    expect(persistence.pendingUpdates).toBe(0)
  })

  it('dispose() waits for a save in flight', async () => {
    let release: () => void = () => {}
    const original = store.append.bind(store)
    vi.spyOn(store, 'append').mockImplementation(async (room, updates) => {
      await new Promise<void>((resolve) => {
        release = resolve
      })
      await original(room, updates)
    })
    const persistence = connect()
    type('in flight')
    void persistence.flush()
    let disposed = false
    const disposing = persistence.dispose().then(() => {
      disposed = true
    })
    await vi.advanceTimersByTimeAsync(0)
    expect(disposed).toBe(false)
    release()
    await disposing
    await expectStoredEqualsDoc()
    expect(vi.getTimerCount()).toBe(0)
  })
})
