import { describe, expect, it } from 'vitest'
import { type DropReason, OfflineQueue } from '../offlineQueue'

function queue(maxMessages: number, maxBytes: number) {
  const dropped: [string, DropReason][] = []
  const q = new OfflineQueue<string>({
    maxMessages,
    maxBytes,
    onDrop: (entry, reason) => dropped.push([entry.value, reason]),
  })
  return { q, dropped }
}

describe('OfflineQueue', () => {
  it('keeps entries in order and hands them out once', () => {
    const { q } = queue(10, 1000)
    for (const value of ['a', 'b', 'c']) q.push({ value, bytes: 1 })
    expect(q.take((value) => value !== 'b').map((entry) => entry.value)).toEqual(['a', 'c'])
    expect(q.values()).toEqual(['b'])
    expect(q.take(() => true).map((entry) => entry.value)).toEqual(['b'])
    expect(q.size).toBe(0)
    expect(q.bytes).toBe(0)
  })

  it('drops the oldest entries beyond maxMessages and reports each one', () => {
    const { q, dropped } = queue(3, 1000)
    for (const value of ['1', '2', '3', '4', '5']) q.push({ value, bytes: 1 })
    expect(q.values()).toEqual(['3', '4', '5'])
    expect(dropped).toEqual([
      ['1', 'overflow'],
      ['2', 'overflow'],
    ])
  })

  it('drops the oldest entries beyond maxBytes', () => {
    const { q, dropped } = queue(100, 10)
    q.push({ value: 'a', bytes: 4 })
    q.push({ value: 'b', bytes: 4 })
    q.push({ value: 'c', bytes: 4 })
    expect(q.values()).toEqual(['b', 'c'])
    expect(q.bytes).toBe(8)
    expect(dropped).toEqual([['a', 'overflow']])
  })

  it('refuses an entry larger than maxBytes without dropping others', () => {
    const { q, dropped } = queue(100, 10)
    q.push({ value: 'a', bytes: 4 })
    q.push({ value: 'huge', bytes: 11 })
    expect(q.values()).toEqual(['a'])
    expect(dropped).toEqual([['huge', 'too_large']])
  })

  it('coalesces entries with the same key: the latest value wins, nothing is reported', () => {
    const { q, dropped } = queue(100, 1000)
    q.push({ value: 'p1', bytes: 5, key: 'presence' })
    q.push({ value: 'b', bytes: 1 })
    q.push({ value: 'p2', bytes: 7, key: 'presence' })
    q.push({ value: 'other', bytes: 1, key: 'presence:other-room' })
    expect(q.values()).toEqual(['b', 'p2', 'other'])
    expect(q.bytes).toBe(9)
    expect(dropped).toEqual([])
  })

  it('drop() reports every removed entry with the reason', () => {
    const { q, dropped } = queue(100, 1000)
    for (const value of ['x1', 'y', 'x2']) q.push({ value, bytes: 1 })
    q.drop((value) => value.startsWith('x'), 'room_closed')
    expect(q.values()).toEqual(['y'])
    expect(dropped).toEqual([
      ['x1', 'room_closed'],
      ['x2', 'room_closed'],
    ])
  })
})
