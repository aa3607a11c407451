// Deterministic synthetic editing trace (no package ships the Yjs B4 trace here): seeded inserts
// and deletes in one Y.Text, shaped like B4 (~250 k edits, ~70 % single-character typing, ~30 %
// backspaces, occasional cursor jumps and range deletions), ending near 100 k characters.
import { createHash } from 'node:crypto'
import * as Y from 'yjs'

/** mulberry32: a tiny, fast, seeded PRNG with uniform output in [0, 1). */
export function prng(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const ALPHABET = 'eeeeeeettttaaaoooiiinnnssshhrrdlcumwfgypbvk      \n.,'

/**
 * Builds the document by applying `edits` edits, each in its own transaction (as an editor
 * does, so the struct store looks like a real editing history). Edits come in bursts like real
 * typing: a run of typed characters (mean 12), then sometimes a run of backspaces, and now and
 * then a click elsewhere or a selection deleted at once. The mean backspace run is steered so
 * the length follows a straight line towards `targetLength`.
 */
export function generateTrace({ edits = 250_000, targetLength = 100_000, seed = 42 } = {}) {
  const rand = prng(seed)
  const geometric = (mean) => 1 + Math.floor(Math.log(1 - rand()) / Math.log(1 - 1 / mean))
  const doc = new Y.Doc()
  doc.clientID = 1 // deterministic bytes: the same seed gives the same encoded document
  const text = doc.getText('text')
  let cursor = 0
  let length = 0
  let inserts = 0
  let deletes = 0
  let jumps = 0
  let i = 0
  const started = performance.now()
  while (i < edits) {
    if (length > 0 && rand() < 0.08) {
      cursor = Math.floor(rand() * (length + 1)) // click somewhere else
      jumps++
    }
    // A run of typing.
    for (let n = geometric(12); n > 0 && i < edits; n--, i++) {
      text.insert(cursor, ALPHABET[Math.floor(rand() * ALPHABET.length)])
      cursor++
      length++
      inserts++
    }
    const target = (targetLength * i) / edits
    const deleteMean = Math.min(40, Math.max(1, 10 * (1 + (length - target) / 3000)))
    if (rand() < 0.5 || cursor === 0) continue
    if (rand() < 0.05) {
      // A selection deleted at once.
      const n = Math.min(cursor, 2 + Math.floor(rand() * 30))
      text.delete(cursor - n, n)
      cursor -= n
      length -= n
      deletes++
      i++
      continue
    }
    // A run of backspaces.
    for (let n = geometric(deleteMean); n > 0 && cursor > 0 && i < edits; n--, i++) {
      text.delete(cursor - 1, 1)
      cursor--
      length--
      deletes++
    }
  }
  const generateMs = performance.now() - started
  const update = Y.encodeStateAsUpdate(doc)
  const info = {
    edits,
    inserts,
    deletes,
    jumps,
    seed,
    length: text.length,
    encodedBytes: update.byteLength,
    encodedV2Bytes: Y.encodeStateAsUpdateV2(doc).byteLength,
    sha256: createHash('sha256').update(update).digest('hex').slice(0, 16),
    generateMs,
  }
  doc.destroy()
  return { update, info }
}
