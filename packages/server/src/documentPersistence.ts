// Moves one room's Yjs updates into a DocumentStore without a write per keystroke: batches them
// (debounce + max wait), merges each batch into one append — incrementally, a bounded run at a
// time, so no single merge blocks the event loop however busy the room — compacts the log when
// it grows, and keeps a failed batch for the next attempt instead of crashing or dropping it.

import * as Y from 'yjs'
import type { DocumentStore, StoredDocument } from './documentStore'

/** Defaults of {@link createDocumentPersistence}, each with its reason. */
export const DOCUMENT_PERSISTENCE_DEFAULTS = {
  /**
   * A pause in typing this long saves the batch. Shorter than Hocuspocus' 2 s: each save is one
   * merged row (cheap in SQLite's WAL mode), and a crash loses less.
   */
  debounceMs: 500,
  /**
   * Under continuous typing the debounce never fires; this bounds what a crash can lose.
   * Half of Hocuspocus' 10 s, still at most one write per room every 5 s.
   */
  maxWaitMs: 5_000,
  /**
   * Compact once the log holds this many entries since the snapshot. Entries are merged batches
   * at least `debounceMs` apart, so this is minutes of editing, while every load merges at most
   * a few hundred small updates (a few milliseconds).
   */
  compactAfterUpdates: 200,
  /**
   * ...or once those entries weigh this much: a paste-heavy document compacts early, which
   * bounds load time and disk use (1 MiB ≈ 6× the 160 KB B4 editing trace).
   */
  compactAfterBytes: 1_048_576,
  /**
   * Queued updates are merged into one every this many, so the save merges a few runs rather
   * than thousands of single updates at once (`Y.mergeUpdates` grows faster than linearly with
   * its input count: 1 250 one-character updates of 50 typists take ~40–110 ms in one call,
   * runs of 100 under 1 ms each and the final merge of the runs a few ms).
   */
  mergeEvery: 100,
  /** First retry after a failed save; doubles on each further failure. */
  retryDelayMs: 1_000,
  /** Retries never wait longer than this, so a store that recovers is used again soon. */
  maxRetryDelayMs: 30_000,
} as const

/** Why {@link DocumentPersistence} reported an error. */
export type DocumentPersistenceErrorCode =
  /** Appending a batch failed; it is kept and retried (no data lost yet). */
  | 'append_failed'
  /** Compacting failed; the log is intact and compaction is retried after the next append. */
  | 'compact_failed'
  /** `dispose()` could not save the last batch: these updates are not stored. */
  | 'unsaved'
  /** `push()` was called after `dispose()`: the update is not stored. */
  | 'disposed'
  /** A batch held bytes that are not Yjs updates; it was dropped (retrying cannot fix it). */
  | 'invalid_update'

/** An error reported through {@link DocumentPersistenceOptions.onError}; never thrown. */
export class DocumentPersistenceError extends Error {
  override readonly name = 'DocumentPersistenceError'
  /** Machine-readable reason. */
  readonly code: DocumentPersistenceErrorCode
  /** The room whose document was being saved. */
  readonly room: string

  constructor(
    code: DocumentPersistenceErrorCode,
    room: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
    this.code = code
    this.room = room
  }
}

/** Options of {@link createDocumentPersistence}. */
export interface DocumentPersistenceOptions {
  /** Where the document is stored. */
  store: DocumentStore
  /** The room whose document this writes. */
  room: string
  /** Quiet time after the last update before a batch is saved. Default 500 ms. */
  debounceMs?: number
  /** Longest an update waits before being saved, however busy the room. Default 5 s. */
  maxWaitMs?: number
  /** Compact when the log holds this many entries after the snapshot. Default 200. */
  compactAfterUpdates?: number
  /** Compact when the log's entries after the snapshot weigh this many bytes. Default 1 MiB. */
  compactAfterBytes?: number
  /**
   * Merge queued updates into one every this many (and merged runs likewise), so no single
   * `Y.mergeUpdates` call takes more than about twice this many inputs. Default 100.
   */
  mergeEvery?: number
  /** Delay before retrying a failed save; doubles per failure. Default 1 s. */
  retryDelayMs?: number
  /** Cap of the retry delay. Default 30 s. */
  maxRetryDelayMs?: number
  /**
   * Called with every store failure instead of throwing, so one room's storage trouble never
   * crashes the server. Default: `console.error`.
   */
  onError?: (error: DocumentPersistenceError) => void
}

/**
 * One room's document writer, owned by the room: `load()` before the first sync answer,
 * `push()` every update of the room's `Y.Doc` (except those applied from `load()`),
 * `dispose()` when the room unloads.
 */
export interface DocumentPersistence {
  /**
   * Loads the stored document (see {@link loadDocument}) and counts its log towards
   * compaction. Throws when the store cannot be read: refuse the join then.
   */
  load(): Promise<Uint8Array | null>
  /** Queues a Yjs update for the next batch. */
  push(update: Uint8Array): void
  /**
   * Saves everything pushed so far, now. Never rejects: a failure is reported through
   * `onError`, the batch stays queued and is retried (see {@link pendingUpdates}).
   */
  flush(): Promise<void>
  /**
   * Flushes, waits for running store calls and clears every timer. Updates that still cannot
   * be saved are reported as `'unsaved'`. Nothing of the writer is left afterwards.
   */
  dispose(): Promise<void>
  /** Number of queued updates not yet stored (including those of a failed batch). */
  readonly pendingUpdates: number
}

/**
 * Merges a stored log into one Yjs update (snapshot first, then the updates).
 * Throws when the stored bytes are not valid Yjs updates.
 */
export function mergeStoredDocument(stored: StoredDocument): Uint8Array {
  const parts = stored.snapshot ? [stored.snapshot, ...stored.updates] : stored.updates
  if (parts.length === 1) return parts[0]!
  return Y.mergeUpdates(parts)
}

/**
 * The stored document of a room as one Yjs update to apply to a fresh `Y.Doc`, or `null` when
 * the room was never stored. Throws (never returns `null`) when the store cannot be read or the
 * data is not valid Yjs: the caller must refuse the join rather than start from an empty
 * document that would overwrite the stored one.
 */
export async function loadDocument(store: DocumentStore, room: string): Promise<Uint8Array | null> {
  const stored = await store.load(room)
  return stored ? mergeStoredDocument(stored) : null
}

/**
 * Creates the writer that persists one room's document into a {@link DocumentStore}: updates
 * are batched (debounced, with a maximum wait), merged with `Y.mergeUpdates` into one append,
 * and the log is compacted into a snapshot once it exceeds `compactAfterUpdates` entries or
 * `compactAfterBytes`. Store calls run one at a time, in order.
 */
export function createDocumentPersistence(
  options: DocumentPersistenceOptions,
): DocumentPersistence {
  const { store, room } = options
  const debounceMs = options.debounceMs ?? DOCUMENT_PERSISTENCE_DEFAULTS.debounceMs
  const maxWaitMs = options.maxWaitMs ?? DOCUMENT_PERSISTENCE_DEFAULTS.maxWaitMs
  const compactAfterUpdates =
    options.compactAfterUpdates ?? DOCUMENT_PERSISTENCE_DEFAULTS.compactAfterUpdates
  const compactAfterBytes =
    options.compactAfterBytes ?? DOCUMENT_PERSISTENCE_DEFAULTS.compactAfterBytes
  const mergeEvery = Math.max(2, options.mergeEvery ?? DOCUMENT_PERSISTENCE_DEFAULTS.mergeEvery)
  const retryDelayMs = options.retryDelayMs ?? DOCUMENT_PERSISTENCE_DEFAULTS.retryDelayMs
  const maxRetryDelayMs = options.maxRetryDelayMs ?? DOCUMENT_PERSISTENCE_DEFAULTS.maxRetryDelayMs
  const onError =
    options.onError ??
    ((error: DocumentPersistenceError) => {
      console.error(error)
    })

  /**
   * The batch: first `merges.length` merged entries (runs of updates merged into one, or a
   * failed batch), then single updates as pushed. Every entry is one Yjs update.
   */
  let pending: Uint8Array[] = []
  /** How many pushed updates each merged entry at the start of `pending` holds. */
  let merges: number[] = []
  // Timers only, no clock reads: fake timers drive every rule and a clock jump changes nothing.
  /** Fires `debounceMs` after the latest update. */
  let debounceTimer: ReturnType<typeof setTimeout> | undefined
  /** Fires `maxWaitMs` after the oldest unsaved update, however busy the room. */
  let maxWaitTimer: ReturnType<typeof setTimeout> | undefined
  /** While the store fails: fires the next attempt. Updates then wait for it. */
  let retryTimer: ReturnType<typeof setTimeout> | undefined
  /** Consecutive failed appends. */
  let failures = 0
  /** Log entries and bytes after the snapshot, as far as this writer knows. */
  let logEntries = 0
  let logBytes = 0
  /** Every store call runs after the previous one; never rejects. */
  let chain: Promise<void> = Promise.resolve()
  let disposed = false

  function report(code: DocumentPersistenceErrorCode, message: string, cause?: unknown): void {
    try {
      onError(new DocumentPersistenceError(code, room, message, { cause }))
    } catch {
      // A throwing error handler must not break the writer.
    }
  }

  function clearTimers(): void {
    clearTimeout(debounceTimer)
    clearTimeout(maxWaitTimer)
    clearTimeout(retryTimer)
    debounceTimer = maxWaitTimer = retryTimer = undefined
  }

  function fire(): void {
    void flush()
  }

  /** Arms the batch timers for queued updates: debounce restarts, max wait does not. */
  function scheduleBatch(): void {
    if (disposed || failures > 0 || pending.length === 0) return
    // Restarted in place (no new timer per keystroke in a busy room).
    if (debounceTimer === undefined) debounceTimer = setTimeout(fire, debounceMs)
    else debounceTimer.refresh()
    maxWaitTimer ??= setTimeout(fire, maxWaitMs)
  }

  async function compact(): Promise<void> {
    try {
      const stored = await store.load(room)
      if (stored) {
        const doc = new Y.Doc()
        let snapshot: Uint8Array
        try {
          // Through a Y.Doc rather than mergeUpdates alone: the doc garbage-collects deleted
          // content, which is what makes the snapshot smaller than the log.
          Y.applyUpdate(doc, mergeStoredDocument(stored))
          snapshot = Y.encodeStateAsUpdate(doc)
        } finally {
          doc.destroy()
        }
        await store.compact(room, snapshot, stored.position)
      }
      logEntries = 0
      logBytes = 0
    } catch (error) {
      report(
        'compact_failed',
        `Compacting the document of room "${room}" failed; its log is intact and compaction is retried after the next save. Check the document store.`,
        error,
      )
    }
  }

  /** Merges `entries` into one update; reports and returns `undefined` if they are not Yjs. */
  function mergeOrDrop(entries: Uint8Array[], updates: number): Uint8Array | undefined {
    if (entries.length === 1) return entries[0]
    try {
      return Y.mergeUpdates(entries)
    } catch (error) {
      // Not a Yjs update: retrying cannot help, and keeping it would block every later save.
      report(
        'invalid_update',
        `Dropped ${updates} update(s) of room "${room}" that are not valid Yjs updates: push only updates emitted by a Y.Doc.`,
        error,
      )
      return undefined
    }
  }

  /**
   * Keeps every merge small: a full run of single updates becomes one merged entry, and a full
   * set of merged entries becomes one.
   */
  function mergeIncrementally(): void {
    if (pending.length - merges.length >= mergeEvery) {
      const run = pending.splice(merges.length)
      const merged = mergeOrDrop(run, run.length)
      if (merged !== undefined) {
        pending.push(merged)
        merges.push(run.length)
      }
    }
    if (merges.length >= mergeEvery) {
      const head = pending.splice(0, merges.length)
      const updates = merges.reduce((sum, count) => sum + count, 0)
      merges = []
      const merged = mergeOrDrop(head, updates)
      if (merged !== undefined) {
        pending.unshift(merged)
        merges.push(updates)
      }
    }
  }

  function queuedUpdates(): number {
    return merges.reduce((sum, count) => sum + count, pending.length - merges.length)
  }

  async function writePending(): Promise<void> {
    if (pending.length === 0) return
    const batch = pending
    const updates = queuedUpdates()
    pending = []
    merges = []
    const merged = mergeOrDrop(batch, updates)
    if (merged === undefined) return
    try {
      await store.append(room, [merged])
    } catch (error) {
      pending.unshift(merged)
      merges.unshift(updates)
      failures += 1
      const delay = Math.min(retryDelayMs * 2 ** (failures - 1), maxRetryDelayMs)
      clearTimers()
      if (!disposed) retryTimer = setTimeout(fire, delay)
      report(
        'append_failed',
        `Saving the document of room "${room}" failed (attempt ${failures}); the batch is kept and retried in ${delay} ms or on the next flush. Check the document store.`,
        error,
      )
      return
    }
    failures = 0
    logEntries += 1
    logBytes += merged.byteLength
    if (logEntries >= compactAfterUpdates || logBytes >= compactAfterBytes) await compact()
    // Updates that arrived while a retry was running armed no timer.
    if (debounceTimer === undefined) scheduleBatch()
  }

  function flush(): Promise<void> {
    clearTimers()
    chain = chain.then(writePending)
    return chain
  }

  return {
    async load() {
      const stored = await store.load(room)
      if (!stored) return null
      const merged = mergeStoredDocument(stored)
      logEntries = stored.updates.length
      logBytes = stored.updates.reduce((sum, update) => sum + update.byteLength, 0)
      return merged
    },

    push(update) {
      if (disposed) {
        report(
          'disposed',
          `An update for room "${room}" arrived after its persistence was disposed and is not stored: stop pushing before dispose().`,
        )
        return
      }
      pending.push(update)
      mergeIncrementally()
      // While the store fails, updates wait for the retry: they do not hammer a broken store.
      scheduleBatch()
    },

    flush,

    async dispose() {
      if (disposed) return chain
      disposed = true
      await flush()
      clearTimers()
      if (pending.length > 0) {
        report(
          'unsaved',
          `The document of room "${room}" could not be saved before unloading; its last ${queuedUpdates()} update(s) are lost. Check the document store.`,
        )
        pending = []
        merges = []
      }
    },

    get pendingUpdates() {
      return queuedUpdates()
    },
  }
}
