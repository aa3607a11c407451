import type { PresenceChange, PresenceEntry } from '@syncline/protocol'
import { seededRandom, shuffled } from '@syncline/test-utils'
import { atom } from 'nanostores'
import { describe, expect, it } from 'vitest'
import {
  applyDiff,
  applySnapshot,
  initialPresenceState,
  othersOf,
  type Peer,
  type PresenceState,
  selectOthers,
  shallow,
  stabilizePeers,
} from '../presence'

const entry = (connectionId: string, userId: string, presence: unknown): PresenceEntry => ({
  connectionId,
  userId,
  presence,
})
const set = (connectionId: string, userId: string, presence: unknown): PresenceChange => ({
  op: 'set',
  ...entry(connectionId, userId, presence),
})
const remove = (connectionId: string, userId: string): PresenceChange => ({
  op: 'remove',
  connectionId,
  userId,
})

/** The connections of a state as a comparable, order-free value. */
function content(state: PresenceState): string[] {
  return [...state.connections.values()]
    .map((c) => JSON.stringify([c.connectionId, c.userId, c.presence]))
    .sort()
}

describe('presence reducer', () => {
  it('applies a snapshot and the diffs that follow it', () => {
    let state = applySnapshot(initialPresenceState(), {
      seq: 4,
      entries: [entry('c1', 'ada', { x: 1 }), entry('c2', 'bob', { x: 2 })],
    }).state
    state = applyDiff(state, {
      seq: 5,
      changes: [set('c3', 'cy', { x: 3 }), remove('c1', 'ada')],
    }).state
    state = applyDiff(state, { seq: 6, changes: [set('c2', 'bob', { x: 20 })] }).state
    expect(state.seq).toBe(6)
    expect(othersOf(state, null)).toEqual([
      {
        userId: 'bob',
        presence: { x: 20 },
        connections: [{ connectionId: 'c2', presence: { x: 20 } }],
      },
      {
        userId: 'cy',
        presence: { x: 3 },
        connections: [{ connectionId: 'c3', presence: { x: 3 } }],
      },
    ])
  })

  it('ignores diffs before any snapshot', () => {
    const result = applyDiff(initialPresenceState(), { seq: 1, changes: [set('c1', 'a', {})] })
    expect(result.outcome).toBe('ignored')
    expect(result.state.connections.size).toBe(0)
  })

  it('on a gap leaves the state untouched and asks for a resync once', () => {
    const base = applySnapshot(initialPresenceState(), {
      seq: 1,
      entries: [entry('c1', 'a', 1)],
    }).state
    const gap = applyDiff(base, { seq: 3, changes: [remove('c1', 'a')] })
    expect(gap.outcome).toBe('resync')
    expect(content(gap.state)).toEqual(content(base))
    const again = applyDiff(gap.state, { seq: 4, changes: [] })
    expect(again.outcome).toBe('waiting')
    const fixed = applySnapshot(again.state, { seq: 4, entries: [] })
    expect(fixed.outcome).toBe('applied')
    expect(fixed.state.resyncRequested).toBe(false)
    expect(applyDiff(fixed.state, { seq: 5, changes: [set('c9', 'z', 1)] }).outcome).toBe('applied')
  })

  it('ignores duplicate diffs and stale snapshots', () => {
    let state = applySnapshot(initialPresenceState(), { seq: 1, entries: [] }).state
    state = applyDiff(state, { seq: 2, changes: [set('c1', 'a', 1)] }).state
    expect(applyDiff(state, { seq: 2, changes: [set('c1', 'a', 99)] }).outcome).toBe('ignored')
    expect(applySnapshot(state, { seq: 1, entries: [] }).outcome).toBe('ignored')
  })

  it('groups connections of one user; the freshest connection speaks for the user', () => {
    let state = applySnapshot(initialPresenceState(), {
      seq: 1,
      entries: [
        entry('tab1', 'bob', { page: 1 }),
        entry('x', 'ada', {}),
        entry('tab2', 'bob', { page: 2 }),
      ],
    }).state
    state = applyDiff(state, { seq: 2, changes: [set('tab1', 'bob', { page: 3 })] }).state
    const others = othersOf(state, 'ada')
    expect(others).toEqual([
      {
        userId: 'bob',
        presence: { page: 3 },
        connections: [
          { connectionId: 'tab1', presence: { page: 3 } },
          { connectionId: 'tab2', presence: { page: 2 } },
        ],
      },
    ])
  })

  it('keeps identity when nothing changed, even across a resync snapshot', () => {
    let state = applySnapshot(initialPresenceState(), {
      seq: 1,
      entries: [entry('c1', 'a', { x: 1 }), entry('c2', 'b', { x: 2 })],
    }).state
    const first = othersOf(state, null)
    state = applyDiff(state, { seq: 2, changes: [set('c2', 'b', { x: 3 })] }).state
    const second = stabilizePeers(first, othersOf(state, null))
    expect(second).not.toBe(first)
    expect(second[0]).toBe(first[0])
    expect(second[1]).not.toBe(first[1])
    state = applySnapshot(state, {
      seq: 2,
      entries: [entry('c1', 'a', { x: 1 }), entry('c2', 'b', { x: 3 })],
    }).state
    expect(stabilizePeers(second, othersOf(state, null))).toBe(second)
  })

  it('property: shuffled and duplicated frames never apply a diff to the wrong base', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const random = seededRandom(seed)
      const users = ['u1', 'u2', 'u3']
      // The truth: a random history of sets and removes.
      const truth = new Map<string, PresenceEntry>()
      const truthAt: string[][] = []
      const snapshotAt = (seq: number) => ({
        type: 'snapshot' as const,
        seq,
        entries: [...truth.values()].map((e) => ({ ...e })),
      })
      const record = () =>
        truthAt.push(
          [...truth.values()]
            .map((e) => JSON.stringify([e.connectionId, e.userId, e.presence]))
            .sort(),
        )
      for (let i = 0; i < 3; i++) {
        truth.set(`c${i}`, entry(`c${i}`, users[i % 3]!, { v: i }))
      }
      const start = Math.floor(random() * 5)
      const frames: (
        | ReturnType<typeof snapshotAt>
        | { type: 'diff'; seq: number; changes: PresenceChange[] }
      )[] = []
      for (let seq = 0; seq < start; seq++) record()
      record()
      frames.push(snapshotAt(start))
      const steps = 5 + Math.floor(random() * 15)
      for (let seq = start + 1; seq <= start + steps; seq++) {
        const changes: PresenceChange[] = []
        for (let k = 0; k < 1 + Math.floor(random() * 3); k++) {
          const id = `c${Math.floor(random() * 6)}`
          if (random() < 0.3 && truth.has(id)) {
            changes.push(remove(id, truth.get(id)!.userId))
            truth.delete(id)
          } else {
            const next = entry(id, users[Math.floor(random() * 3)]!, {
              v: Math.floor(random() * 100),
            })
            changes.push(set(next.connectionId, next.userId, next.presence))
            truth.set(id, next)
          }
        }
        frames.push({ type: 'diff', seq, changes })
        record()
        // Sometimes an intermediate snapshot (as after a resync).
        if (random() < 0.15) frames.push(snapshotAt(seq))
      }
      const finalSeq = start + steps
      const final = snapshotAt(finalSeq)
      // Shuffle, duplicate some frames.
      const delivered = shuffled([...frames, ...frames.filter(() => random() < 0.3)], random)
      let state = initialPresenceState()
      for (const frame of delivered) {
        state =
          frame.type === 'snapshot'
            ? applySnapshot(state, frame).state
            : applyDiff(state, frame).state
        // Whatever got applied, the state is exactly the truth at its seq: no wrong base, ever.
        if (state.seq !== null) expect(content(state), `seed ${seed}`).toEqual(truthAt[state.seq])
        else expect(state.connections.size).toBe(0)
      }
      state = applySnapshot(state, final).state
      expect(content(state), `seed ${seed}`).toEqual(truthAt[finalSeq])
    }
  })
})

describe('selectOthers', () => {
  it('changes only when the selected slice changes (shallow by default)', () => {
    const others = atom<Peer[]>([{ userId: 'a', presence: { name: 'Ada', x: 1 }, connections: [] }])
    const names = selectOthers({ others }, (list) => list.map((peer) => peer.presence.name))
    const seen: unknown[] = []
    const off = names.subscribe((value) => seen.push(value))
    others.set([{ userId: 'a', presence: { name: 'Ada', x: 2 }, connections: [] }])
    others.set([{ userId: 'a', presence: { name: 'Ada', x: 3 }, connections: [] }])
    expect(seen).toEqual([['Ada']])
    others.set([
      { userId: 'a', presence: { name: 'Ada', x: 3 }, connections: [] },
      { userId: 'b', presence: { name: 'Bob' }, connections: [] },
    ])
    expect(seen).toEqual([['Ada'], ['Ada', 'Bob']])
    off()
  })

  it('shallow compares one level', () => {
    expect(shallow({ a: 1, b: 'x' }, { a: 1, b: 'x' })).toBe(true)
    expect(shallow({ a: {} }, { a: {} })).toBe(false)
    expect(shallow([1, 2], [1, 2])).toBe(true)
    expect(shallow([1], { 0: 1 })).toBe(false)
    expect(shallow({ a: 1 }, { a: 1, b: 2 })).toBe(false)
  })
})
