// Mergeable latency histogram and the "lost position" rule, shared by the load processes
// (which record) and the orchestrator (which merges and reports).

// Log-bucketed histogram: 1 % relative precision from 1 µs to ~100 s, a fixed 2 000 buckets,
// so millions of samples cost no memory and travel over IPC as a short sparse list.
const BASE_MS = 0.001
const GROWTH = 1.01
const LOG_GROWTH = Math.log(GROWTH)
const BUCKETS = 2000

export class Histogram {
  constructor() {
    this.counts = new Float64Array(BUCKETS)
    this.count = 0
    this.sum = 0
    this.max = 0
  }

  /** Records one sample in milliseconds (negative values, from clock noise, count as 0). */
  add(ms) {
    const v = Math.max(ms, 0)
    const i =
      v <= BASE_MS ? 0 : Math.min(BUCKETS - 1, 1 + Math.floor(Math.log(v / BASE_MS) / LOG_GROWTH))
    this.counts[i]++
    this.count++
    this.sum += v
    if (v > this.max) this.max = v
  }

  /** The value below which `p` (0..1) of the samples lie, to 1 %; null when empty. */
  percentile(p) {
    if (this.count === 0) return null
    const rank = Math.max(1, Math.ceil(p * this.count))
    let seen = 0
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]
      if (seen >= rank) return Math.min(this.max, i === 0 ? BASE_MS : BASE_MS * GROWTH ** (i - 0.5))
    }
    return this.max
  }

  mean() {
    return this.count === 0 ? null : this.sum / this.count
  }

  merge(other) {
    for (let i = 0; i < BUCKETS; i++) this.counts[i] += other.counts[i]
    this.count += other.count
    this.sum += other.sum
    if (other.max > this.max) this.max = other.max
    return this
  }

  /** Sparse form for IPC: [[bucket, count], ...]. */
  toJSON() {
    const buckets = []
    for (let i = 0; i < BUCKETS; i++) if (this.counts[i] > 0) buckets.push([i, this.counts[i]])
    return { buckets, count: this.count, sum: this.sum, max: this.max }
  }

  static fromJSON(json) {
    const h = new Histogram()
    for (const [i, c] of json.buckets) h.counts[i] = c
    h.count = json.count
    h.sum = json.sum
    h.max = json.max
    return h
  }
}

/**
 * Counts positions lost between one sender and one receiver.
 *
 * `sendTimes[seq]` is when the sender sent update `seq` (seq 1..n; undefined = never sent);
 * `received` is a Uint8Array with received[seq] = 1 when the receiver got it. Only updates
 * sent inside [windowStart, windowEnd) are judged. An update counts as delivered when it was
 * received; as superseded when it was not, but a newer update from the same sender sent at
 * most `toleranceMs` (one server tick) later was received (the server coalesced it away, as
 * Syncline does per tick); otherwise it is lost. `lostWithinTwoTicks` counts the lost updates
 * that a received newer update, sent at most two ticks later, replaced (a late-firing tick),
 * so a reader can tell coalescing jitter from updates that never arrived.
 */
export function judgePair(sendTimes, received, windowStart, windowEnd, toleranceMs) {
  let expected = 0
  let delivered = 0
  let superseded = 0
  let lost = 0
  let lostWithinTwoTicks = 0
  // Walk backwards so "the next received seq" is known in O(1).
  let nextReceivedTime = Number.POSITIVE_INFINITY
  for (let seq = sendTimes.length - 1; seq >= 1; seq--) {
    const t = sendTimes[seq]
    if (t === undefined || t === null) continue
    const got = received[seq] === 1
    if (t >= windowStart && t < windowEnd) {
      expected++
      if (got) delivered++
      else if (nextReceivedTime - t <= toleranceMs) superseded++
      else {
        lost++
        if (nextReceivedTime - t <= 2 * toleranceMs) lostWithinTwoTicks++
      }
    }
    if (got) nextReceivedTime = t
  }
  return { expected, delivered, superseded, lost, lostWithinTwoTicks }
}

/** Sums the fields of count objects. */
export function addCounts(into, more) {
  for (const [k, v] of Object.entries(more)) into[k] = (into[k] ?? 0) + v
  return into
}
