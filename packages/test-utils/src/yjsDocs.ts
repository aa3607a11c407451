// Yjs helpers for document tests: watch a doc like a store (so the waitFor helpers apply), reduce
// a doc to a canonical fingerprint for "byte-identical" checks, and apply seeded random edits to
// Y.Text, Y.Array and Y.Map for convergence tests.
import * as Y from 'yjs'
import type { Subscribable } from './waitFor'

/**
 * A doc as a {@link Subscribable}: the listener gets the doc at once and after every update
 * (local or remote, including pure deletions), so `waitForValue(docChanges(doc), …)` waits for
 * the document's content without polling.
 */
export function docChanges(doc: Y.Doc): Subscribable<Y.Doc> {
  return {
    subscribe(listener) {
      const onUpdate = () => listener(doc)
      doc.on('update', onUpdate)
      listener(doc)
      return () => doc.off('update', onUpdate)
    },
  }
}

/**
 * The doc's whole state re-encoded through a fresh Y.Doc. Two docs holding the same state can
 * still split their items differently (one integrated an insertion in the middle of an item
 * locally, the other received it already split); integrating the state from scratch merges
 * every mergeable neighbour, so equal states give equal bytes.
 */
export function canonicalUpdate(doc: Y.Doc): Uint8Array {
  const copy = new Y.Doc()
  try {
    Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc))
    return Y.encodeStateAsUpdate(copy)
  } finally {
    copy.destroy()
  }
}

/** What two docs are compared by in convergence tests. */
export interface DocFingerprint {
  /** `Y.encodeStateVector`, hex. */
  stateVector: string
  /** The delete set (which ids are deleted), hex: state vectors do not see deletions. */
  deleteSet: string
  /** `toJSON()` of each named root type, as JSON text with object keys sorted (a Y.Map's own
   * key order is its local insertion history, not content). */
  json: string
  /** {@link canonicalUpdate}, hex. */
  update: string
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')

/** Fingerprint of `doc`, reading the root types `roots` (name → kind) with `toJSON()`. */
export function docFingerprint(
  doc: Y.Doc,
  roots: Readonly<Record<string, 'text' | 'array' | 'map'>>,
): DocFingerprint {
  const json: Record<string, unknown> = {}
  for (const [name, kind] of Object.entries(roots)) {
    const type =
      kind === 'text' ? doc.getText(name) : kind === 'array' ? doc.getArray(name) : doc.getMap(name)
    json[name] = type.toJSON()
  }
  return {
    stateVector: hex(Y.encodeStateVector(doc)),
    deleteSet: hex(encodeDeleteSet(doc)),
    json: JSON.stringify(sortKeys(json)),
    update: hex(canonicalUpdate(doc)),
  }
}

/** A copy of a JSON value with every object's keys in sorted order. */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
  )
}

/**
 * Which fields of two fingerprints differ, each with the first differing position and a short
 * excerpt of both sides; `undefined` when they are equal. Keeps failure messages readable where
 * a deep-equality diff would print kilobytes of hex.
 */
export function fingerprintDifference(
  actual: DocFingerprint,
  expected: DocFingerprint,
): string | undefined {
  const parts: string[] = []
  for (const field of ['stateVector', 'deleteSet', 'json', 'update'] as const) {
    const a = actual[field]
    const b = expected[field]
    if (a === b) continue
    let at = 0
    while (at < a.length && at < b.length && a[at] === b[at]) at++
    const excerpt = (text: string) => JSON.stringify(text.slice(Math.max(0, at - 20), at + 40))
    parts.push(
      `${field} differs at ${at} (lengths ${a.length} / ${b.length}): ${excerpt(a)} vs expected ${excerpt(b)}`,
    )
  }
  return parts.length === 0 ? undefined : parts.join('; ')
}

/** The doc's delete set alone, encoded (an update with no structs). */
function encodeDeleteSet(doc: Y.Doc): Uint8Array {
  // An update relative to the doc's own state vector carries no structs, only the delete set.
  return Y.encodeStateAsUpdate(doc, Y.encodeStateVector(doc))
}

/** The root types {@link randomEdit} works on. */
export const randomEditRoots = { text: 'text', array: 'array', map: 'map' } as const

const alphabet = 'abcdefghijklmnopqrstuvwxyz ABCDEFGHIJ0123456789äöü€😀'
const mapKeys = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']

function pick<T>(items: readonly T[], random: () => number): T {
  return items[Math.floor(random() * items.length)] as T
}

function randomString(random: () => number, max: number): string {
  const length = 1 + Math.floor(random() * max)
  let text = ''
  // Code points, not UTF-16 units: an emoji is never split into lone surrogates.
  const chars = [...alphabet]
  for (let i = 0; i < length; i++) text += pick(chars, random)
  return text
}

function randomValue(random: () => number): unknown {
  const roll = random()
  if (roll < 0.4) return Math.floor(random() * 1000)
  if (roll < 0.8) return randomString(random, 6)
  if (roll < 0.9) return { n: Math.floor(random() * 100), s: randomString(random, 3) }
  return random() < 0.5
}

/**
 * Applies one random edit to `doc` (in the caller's transaction, if any) and describes it:
 * Y.Text insert/delete on `text`, Y.Array insert/delete on `array`, Y.Map set/delete on `map`.
 * Positions are drawn against the doc's current content, so every edit is valid.
 */
export function randomEdit(doc: Y.Doc, random: () => number): string {
  const text = doc.getText(randomEditRoots.text)
  const array = doc.getArray<unknown>(randomEditRoots.array)
  const map = doc.getMap<unknown>(randomEditRoots.map)
  const roll = random()
  if (roll < 0.25 || (roll < 0.37 && text.length === 0)) {
    let index = Math.floor(random() * (text.length + 1))
    // Never between the two halves of a surrogate pair.
    if (index < text.length && isLowSurrogate(text.toString().charCodeAt(index))) index -= 1
    const content = randomString(random, 5)
    text.insert(index, content)
    return `text.insert(${index}, ${JSON.stringify(content)})`
  }
  if (roll < 0.37) {
    const index = Math.floor(random() * text.length)
    // Never cut a surrogate pair: extend the range to whole code points.
    const raw = text.toString()
    let start = index
    if (start > 0 && isLowSurrogate(raw.charCodeAt(start))) start -= 1
    let end = Math.min(raw.length, start + 1 + Math.floor(random() * 5))
    if (end < raw.length && isLowSurrogate(raw.charCodeAt(end))) end += 1
    text.delete(start, end - start)
    return `text.delete(${start}, ${end - start})`
  }
  if (roll < 0.57 || (roll < 0.67 && array.length === 0)) {
    const index = Math.floor(random() * (array.length + 1))
    const count = 1 + Math.floor(random() * 3)
    const values = Array.from({ length: count }, () => randomValue(random))
    array.insert(index, values)
    return `array.insert(${index}, ${JSON.stringify(values)})`
  }
  if (roll < 0.67) {
    const index = Math.floor(random() * array.length)
    const count = Math.min(array.length - index, 1 + Math.floor(random() * 3))
    array.delete(index, count)
    return `array.delete(${index}, ${count})`
  }
  const keys = [...map.keys()]
  if (roll < 0.9 || keys.length === 0) {
    const key = pick(mapKeys, random)
    const value = randomValue(random)
    map.set(key, value)
    return `map.set(${key}, ${JSON.stringify(value)})`
  }
  const key = pick(keys.sort(), random)
  map.delete(key)
  return `map.delete(${key})`
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff
}
