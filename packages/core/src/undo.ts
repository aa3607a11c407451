// Undo/redo for a synced document that only ever reverts the user's own edits: undoing must not
// erase what a collaborator typed, which is what a plain Y.UndoManager with the wrong origins does.
import { atom, type ReadableAtom } from 'nanostores'
import * as Y from 'yjs'
import { remoteOrigin } from './docSync'
import { SynclineError } from './errors'

/**
 * What an undo manager covers: a whole document, one shared type, or an array of shared types
 * (Y.UndoManager's own scope type, so any `Y.Text`, `Y.Map`, `Y.XmlFragment`… fits).
 */
export type UndoScope = ConstructorParameters<typeof Y.UndoManager>[0]

/** Options of {@link createUndoManager}. */
export interface UndoManagerOptions {
  /**
   * Edits closer together than this (ms) merge into one undo step. Default 500 (Yjs' default),
   * about the pause between typed words. Call `stopCapturing()` to force a boundary.
   */
  captureTimeout?: number
  /**
   * Further transaction origins that count as the user's own edits, for bindings that tag their
   * transactions (y-prosemirror and y-codemirror use their plugin or binding object). Edits with
   * origin `null`/`undefined` (plain `doc.transact(fn)` and direct type methods) and the manager's
   * own undo/redo transactions are always tracked. {@link remoteOrigin} may not be listed.
   */
  trackedOrigins?: Iterable<unknown>
  /** Deleted items for which this returns false are not restored by undo (e.g. images). */
  deleteFilter?: (item: Y.Item) => boolean
}

/** Undo/redo over the local edits of a Y.Doc. */
export interface UndoManager {
  /** Reverts the last local undo step; false when there was nothing to undo. */
  undo(): boolean
  /** Re-applies the last undone step; false when there was nothing to redo. */
  redo(): boolean
  /** Whether {@link undo} would do something. */
  readonly canUndo: ReadableAtom<boolean>
  /** Whether {@link redo} would do something. */
  readonly canRedo: ReadableAtom<boolean>
  /** Makes the next edit start a new undo step even within `captureTimeout`. */
  stopCapturing(): void
  /** Empties both stacks (e.g. after loading a different document into the editor). */
  clear(): void
  /** The underlying Y.UndoManager, for editor bindings that take one (y-prosemirror's `yUndoPlugin`). */
  readonly manager: Y.UndoManager
  /** Removes every listener on the doc and on the manager; both atoms turn false. */
  destroy(): void
}

/**
 * Creates an undo manager that undoes ONLY local edits.
 *
 * Contract on origins: a transaction is a local edit when its origin is `null`/`undefined`, the
 * manager itself (its own undo/redo), or one of `options.trackedOrigins`. `DocSync` applies what
 * the server sends with the origin {@link remoteOrigin}, which is never tracked, so a
 * collaborator's edit survives undo. Throws `invalid_option` if `trackedOrigins` contains
 * `remoteOrigin`, since that would make undo revert other users' work.
 *
 * @example
 * ```ts
 * const undo = createUndoManager(room.doc.getText('body'))
 * undo.canUndo.subscribe((can) => { undoButton.disabled = !can })
 * undoButton.onclick = () => undo.undo()
 * ```
 */
export function createUndoManager(scope: UndoScope, options: UndoManagerOptions = {}): UndoManager {
  const tracked = new Set<unknown>([null])
  for (const origin of options.trackedOrigins ?? []) {
    if (origin === remoteOrigin) {
      throw new SynclineError(
        'invalid_option',
        'createUndoManager: trackedOrigins must not contain remoteOrigin; undo would revert edits made by other users. Leave it out.',
      )
    }
    tracked.add(origin === undefined ? null : origin)
  }
  if (Array.isArray(scope) && scope.length === 0) {
    throw new SynclineError(
      'invalid_option',
      'createUndoManager: the scope is an empty array; pass a Y.Doc, a shared type, or at least one shared type.',
    )
  }
  const manager = new Y.UndoManager(scope, {
    trackedOrigins: tracked,
    ...(options.captureTimeout === undefined ? {} : { captureTimeout: options.captureTimeout }),
    ...(options.deleteFilter === undefined ? {} : { deleteFilter: options.deleteFilter }),
  })
  const canUndo = atom(false)
  const canRedo = atom(false)
  // Stacks change on capture, undo, redo and clear; reading them after each event keeps the
  // atoms exact without mirroring the manager's bookkeeping.
  const refresh = (): void => {
    canUndo.set(manager.canUndo())
    canRedo.set(manager.canRedo())
  }
  manager.on('stack-item-added', refresh)
  manager.on('stack-item-popped', refresh)
  manager.on('stack-cleared', refresh)
  let destroyed = false

  return {
    undo: () => !destroyed && manager.undo() !== null,
    redo: () => !destroyed && manager.redo() !== null,
    canUndo,
    canRedo,
    stopCapturing: () => manager.stopCapturing(),
    clear: () => manager.clear(),
    manager,
    destroy: () => {
      if (destroyed) return
      destroyed = true
      manager.off('stack-item-added', refresh)
      manager.off('stack-item-popped', refresh)
      manager.off('stack-cleared', refresh)
      // Y.UndoManager.destroy removes its afterTransaction and destroy listeners from the doc.
      manager.destroy()
      canUndo.set(false)
      canRedo.set(false)
    },
  }
}
