// The undo manager must revert only the user's own edits: a collaborator's text, applied by
// DocSync with remoteOrigin, survives every undo and redo.
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { remoteOrigin } from '../docSync'
import { SynclineError } from '../errors'
import { createUndoManager } from '../undo'
import { FakeDocServer } from './docServer'

function observerCount(observable: { _observers: Map<unknown, Set<unknown>> }): number {
  let count = 0
  for (const listeners of observable._observers.values()) count += listeners.size
  return count
}

describe('createUndoManager', () => {
  it('undoes only local edits: a remote edit synced through DocSync survives', () => {
    const server = new FakeDocServer()
    const a = server.client('A')
    const b = server.client('B')
    a.connect()
    b.connect()
    server.settle()
    const undo = createUndoManager(a.doc.getText('t'))

    a.doc.getText('t').insert(0, 'Hello World')
    undo.stopCapturing()
    server.settle()
    b.doc.getText('t').insert(11, '!')
    server.settle()
    expect(a.text).toBe('Hello World!')
    // The remote edit did not become an undo step.
    a.doc.getText('t').insert(6, 'Beautiful ')
    server.settle()
    expect(a.text).toBe('Hello Beautiful World!')

    expect(undo.undo()).toBe(true)
    expect(a.text).toBe('Hello World!')
    expect(undo.undo()).toBe(true)
    expect(a.text).toBe('!')
    expect(undo.undo()).toBe(false)
    server.settle()
    expect(b.text).toBe('!')

    expect(undo.redo()).toBe(true)
    expect(undo.redo()).toBe(true)
    server.settle()
    expect(a.text).toBe('Hello Beautiful World!')
    expect(b.text).toBe('Hello Beautiful World!')
    undo.destroy()
  })

  it('ignores transactions with remoteOrigin and tracks null, undefined and listed origins', () => {
    const doc = new Y.Doc()
    const text = doc.getText('t')
    const binding = { name: 'editor binding' }
    const other = { name: 'some other provider' }
    const undo = createUndoManager(text, { trackedOrigins: [binding] })

    doc.transact(() => text.insert(0, 'remote '), remoteOrigin)
    doc.transact(() => text.insert(0, 'other '), other)
    expect(undo.canUndo.get()).toBe(false)

    doc.transact(() => text.insert(text.length, 'a'))
    undo.stopCapturing()
    doc.transact(() => text.insert(text.length, 'b'), undefined)
    undo.stopCapturing()
    doc.transact(() => text.insert(text.length, 'c'), binding)
    expect(text.toString()).toBe('other remote abc')

    while (undo.undo()) {}
    expect(text.toString()).toBe('other remote ')
    undo.destroy()
  })

  it('keeps canUndo / canRedo atoms current', () => {
    const doc = new Y.Doc()
    const text = doc.getText('t')
    const undo = createUndoManager(text)
    const seen: [boolean, boolean][] = []
    const record = () => seen.push([undo.canUndo.get(), undo.canRedo.get()])
    const stopUndo = undo.canUndo.listen(record)
    const stopRedo = undo.canRedo.listen(record)
    expect([undo.canUndo.get(), undo.canRedo.get()]).toEqual([false, false])

    text.insert(0, 'x')
    expect([undo.canUndo.get(), undo.canRedo.get()]).toEqual([true, false])
    undo.undo()
    expect([undo.canUndo.get(), undo.canRedo.get()]).toEqual([false, true])
    undo.redo()
    expect([undo.canUndo.get(), undo.canRedo.get()]).toEqual([true, false])
    undo.undo()
    text.insert(0, 'y') // a new edit clears the redo stack
    expect([undo.canUndo.get(), undo.canRedo.get()]).toEqual([true, false])
    undo.clear()
    expect([undo.canUndo.get(), undo.canRedo.get()]).toEqual([false, false])
    expect(seen.length).toBeGreaterThan(0)
    stopUndo()
    stopRedo()
    undo.destroy()
  })

  it('merges edits within captureTimeout and splits them at stopCapturing', () => {
    const doc = new Y.Doc()
    const text = doc.getText('t')
    const undo = createUndoManager(text, { captureTimeout: 60_000 })
    text.insert(0, 'a')
    text.insert(1, 'b')
    undo.stopCapturing()
    text.insert(2, 'c')
    undo.undo()
    expect(text.toString()).toBe('ab')
    undo.undo()
    expect(text.toString()).toBe('')
    undo.destroy()
  })

  it('accepts a whole doc or several types as scope', () => {
    const doc = new Y.Doc()
    const whole = createUndoManager(doc)
    const some = createUndoManager([doc.getText('t'), doc.getMap('m')])
    doc.getText('t').insert(0, 'x')
    doc.getMap('m').set('k', 1)
    doc.getArray('outside').push([1])
    some.undo()
    expect(doc.getText('t').toString()).toBe('')
    expect(doc.getMap('m').size).toBe(0)
    expect(doc.getArray('outside').length).toBe(1)
    whole.undo()
    expect(doc.getArray('outside').length).toBe(0)
    whole.destroy()
    some.destroy()
  })

  it('refuses remoteOrigin in trackedOrigins and an empty scope', () => {
    const doc = new Y.Doc()
    expect(() => createUndoManager(doc, { trackedOrigins: [remoteOrigin] })).toThrow(SynclineError)
    expect(() => createUndoManager([])).toThrow(/empty array/)
  })

  it('destroy removes its listeners from the doc and the manager', () => {
    const doc = new Y.Doc()
    const text = doc.getText('t')
    const before = observerCount(doc)
    const undo = createUndoManager(text)
    expect(observerCount(doc)).toBeGreaterThan(before)
    const manager = undo.manager
    expect(observerCount(manager)).toBe(3)

    undo.destroy()
    undo.destroy()
    expect(observerCount(doc)).toBe(before)
    expect(observerCount(manager)).toBe(0)
    expect([undo.canUndo.get(), undo.canRedo.get()]).toEqual([false, false])
    text.insert(0, 'after')
    expect(undo.undo()).toBe(false)
    expect(text.toString()).toBe('after')
  })
})
