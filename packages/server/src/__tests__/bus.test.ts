import { afterEach, describe, expect, it } from 'vitest'
import { type Bus, createInProcessBus, type SynclineServer } from '../index'
import { type Client, closeAll, connect, join, startServer } from './harness'

const servers: SynclineServer[] = []
const clients: Client[] = []

afterEach(async () => {
  await closeAll(...clients.splice(0))
  await closeAll(...servers.splice(0))
})

async function client(server: SynclineServer) {
  const opened = await connect(server)
  clients.push(opened)
  return opened
}

describe('two servers on one bus', () => {
  it('relays a broadcast from a client on server A to a client on server B', async () => {
    const bus = createInProcessBus()
    const a = await startServer({ bus })
    const b = await startServer({ bus })
    servers.push(a, b)
    const onA = await client(a)
    const onB = await client(b)
    const alsoOnA = await client(a)
    await join(onA, 1, 'shared')
    await join(onB, 3, 'shared')
    await join(alsoOnA, 2, 'shared')
    onA.send({ type: 'broadcast', handle: 1, event: 'hello', payload: { from: 'A' } })
    const expected = {
      type: 'event',
      event: 'hello',
      payload: { from: 'A' },
      userId: onA.welcome.userId,
      connectionId: onA.welcome.connectionId,
    }
    expect(await onB.next()).toEqual({ ...expected, handle: 3 })
    expect(await alsoOnA.next()).toEqual({ ...expected, handle: 2 })
    // The sender's server does not deliver its own bus echo: one event per member, none to A.
    onA.send({ type: 'ping', id: 5 })
    expect(await onA.next()).toEqual({ type: 'pong', id: 5 })
    alsoOnA.send({ type: 'broadcast', handle: 2, event: 'next', payload: 1 })
    expect(await onB.next()).toMatchObject({ event: 'next' })
    expect(await onA.next()).toMatchObject({ event: 'next' })
  })

  it('does not close a bus it was given, but unsubscribes from it', async () => {
    const topics = new Map<string, number>()
    const inner = createInProcessBus()
    const counting: Bus = {
      publish: (topic, message) => inner.publish(topic, message),
      subscribe(topic, listener) {
        topics.set(topic, (topics.get(topic) ?? 0) + 1)
        const off = inner.subscribe(topic, listener)
        return () => {
          topics.set(topic, (topics.get(topic) ?? 0) - 1)
          off()
        }
      },
      close: async () => {
        throw new Error('the server must not close a bus it was given')
      },
    }
    const server = await startServer({ bus: counting })
    servers.push(server)
    const c = await client(server)
    await join(c, 1, 'r')
    expect([...topics.values()]).toEqual([1])
    await c.close()
    await server.close()
    expect([...topics.values()]).toEqual([0])
  })
})

describe('createInProcessBus', () => {
  it('delivers asynchronously, in order, and not after unsubscribe or close', async () => {
    const bus = createInProcessBus()
    const got: number[] = []
    const off = bus.subscribe('t', (m) => got.push(m[0] ?? -1))
    bus.publish('t', new Uint8Array([1]))
    bus.publish('t', new Uint8Array([2]))
    expect(got).toEqual([])
    await Promise.resolve()
    expect(got).toEqual([1, 2])
    bus.publish('t', new Uint8Array([3]))
    off()
    await Promise.resolve()
    expect(got).toEqual([1, 2])
    bus.subscribe('t', (m) => got.push(m[0] ?? -1))
    await bus.close()
    bus.publish('t', new Uint8Array([4]))
    await Promise.resolve()
    expect(got).toEqual([1, 2])
  })

  it('reports a throwing listener without affecting the others', async () => {
    const errors: unknown[] = []
    const bus = createInProcessBus({ onListenerError: (e) => errors.push(e) })
    const got: string[] = []
    bus.subscribe('t', () => {
      throw new Error('listener bug')
    })
    bus.subscribe('t', () => got.push('second'))
    bus.publish('t', new Uint8Array())
    await Promise.resolve()
    expect(got).toEqual(['second'])
    expect(errors).toHaveLength(1)
  })
})
