import { CloseCode, PROTOCOL_VERSION } from '@syncline/protocol'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flush, setup, welcomeNext } from './harness'

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

describe('handshake', () => {
  it('sends hello with the protocol version and the token, never putting the token in the URL', async () => {
    const { server, client } = setup({ auth: async () => 'secret-token' })
    expect(client.status.get()).toBe('connecting')
    await flush()
    const socket = server.last
    expect(socket.url).toBe('ws://syncline.test')
    expect(socket.url).not.toContain('secret-token')
    expect(socket.binaryType).toBe('arraybuffer')
    socket.accept()
    expect(socket.received).toEqual([
      { type: 'hello', version: PROTOCOL_VERSION, token: 'secret-token' },
    ])
    expect(client.status.get()).toBe('connecting')
    socket.welcome({ connectionId: 'c-1', userId: 'ada' })
    expect(client.status.get()).toBe('connected')
    expect(client.userId.get()).toBe('ada')
    expect(client.connectionId.get()).toBe('c-1')
  })

  it('stays idle with autoConnect: false until connect()', async () => {
    const { server, client } = setup({ autoConnect: false })
    await flush()
    vi.advanceTimersByTime(60_000)
    expect(client.status.get()).toBe('idle')
    expect(server.sockets).toHaveLength(0)
    client.connect()
    expect(client.status.get()).toBe('connecting')
    await welcomeNext(server)
    expect(client.status.get()).toBe('connected')
  })

  it('resolves a URL function (sync or async) and the auth provider on every connect', async () => {
    let n = 0
    const url = vi.fn(async () => `ws://host-${++n}.test`)
    const auth = vi.fn(() => `token-${n}`)
    const { server } = setup({ url, auth })
    const first = await welcomeNext(server, { connectionId: 'first', resumeToken: 'secret-1' })
    first.drop()
    vi.advanceTimersByTime(125)
    await flush()
    const second = server.last
    second.accept()
    expect(url).toHaveBeenCalledTimes(2)
    expect(auth).toHaveBeenCalledTimes(2)
    expect(second.url).toBe('ws://host-2.test')
    // A reconnect carries the previous welcome's resume secret (not the public connectionId)
    // so the server can treat it as a quick resume.
    expect(second.received[0]).toEqual({
      type: 'hello',
      version: PROTOCOL_VERSION,
      token: 'token-2',
      resume: 'secret-1',
    })
  })

  it('gives up on a handshake that never completes and tries again', async () => {
    const { server, client } = setup({ handshakeTimeoutMs: 2000 })
    await flush()
    const socket = server.last
    socket.accept() // Open, but the server never says welcome.
    vi.advanceTimersByTime(1999)
    expect(socket.clientClose).toBeUndefined()
    vi.advanceTimersByTime(1)
    expect(socket.clientClose?.code).toBe(CloseCode.Timeout)
    expect(client.status.get()).toBe('reconnecting')
    vi.advanceTimersByTime(125)
    await flush()
    expect(server.sockets).toHaveLength(2)
  })
})

describe('reconnecting', () => {
  it('retries with growing jittered delays and resets them after a welcome', async () => {
    const { server, client, statuses } = setup()
    await flush()
    const delays: number[] = []
    // Three failed attempts: the socket dies before opening.
    for (let i = 0; i < 3; i++) {
      server.last.drop()
      const before = server.sockets.length
      let waited = 0
      while (server.sockets.length === before) {
        await vi.advanceTimersByTimeAsync(1)
        waited++
      }
      delays.push(waited)
    }
    // random() = 0.5: half of 250, 500, 1000.
    expect(delays).toEqual([125, 250, 500])
    expect(client.status.get()).toBe('reconnecting')
    server.last.welcome()
    expect(client.status.get()).toBe('connected')
    expect(statuses).toEqual(['connecting', 'reconnecting', 'connected'])
    // Healthy connection: the next outage starts again from the first step.
    server.last.drop()
    await vi.advanceTimersByTimeAsync(124)
    expect(server.sockets).toHaveLength(4)
    await vi.advanceTimersByTimeAsync(1)
    expect(server.sockets).toHaveLength(5)
  })

  it('keeps retrying for any retry close code (1001, 1011, 4408, 4429, unknown)', async () => {
    const { server, client } = setup()
    for (const code of [1001, 1011, 4408, 4429, 4999]) {
      const socket = await welcomeNext(server)
      socket.serverClose(code, 'bye')
      expect(client.status.get()).toBe('reconnecting')
      await vi.advanceTimersByTimeAsync(125)
    }
    expect(server.sockets).toHaveLength(6)
  })

  it.each([
    [CloseCode.Forbidden, 'not allowed'],
    [CloseCode.ProtocolVersion, ''],
    [CloseCode.MalformedFrame, 'bad frame'],
  ])('fails for good on close %i, saying why', async (code, reason) => {
    const { server, client } = setup()
    const failures: unknown[] = []
    client.on('status', (status, failure) => {
      if (status === 'failed') failures.push(failure)
    })
    const socket = await welcomeNext(server)
    socket.serverClose(code, reason)
    expect(client.status.get()).toBe('failed')
    const failure = client.failure.get()
    expect(failure?.code).toBe(code)
    expect(failure?.reason.length).toBeGreaterThan(0)
    if (reason) expect(failure?.reason).toBe(reason)
    expect(failures).toEqual([failure])
    await vi.advanceTimersByTimeAsync(600_000)
    expect(server.sockets).toHaveLength(1)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('connect() after failed starts over', async () => {
    const { server, client } = setup()
    ;(await welcomeNext(server)).serverClose(CloseCode.Forbidden, 'no')
    client.connect()
    expect(client.status.get()).toBe('connecting')
    expect(client.failure.get()).toBeNull()
    await welcomeNext(server)
    expect(client.status.get()).toBe('connected')
  })
})

describe('authentication', () => {
  it('on 4401 asks auth for a fresh token and retries at once; a second 4401 in a row fails', async () => {
    let n = 0
    const auth = vi.fn(async () => `token-${++n}`)
    const { server, client } = setup({ auth })
    const first = await welcomeNext(server)
    // The token expired mid-session.
    first.serverClose(CloseCode.Unauthorized, 'token expired')
    expect(client.status.get()).toBe('reconnecting')
    await flush() // No backoff wait.
    const second = server.last.accept()
    expect(second.received[0]).toMatchObject({ type: 'hello', token: 'token-2' })
    second.serverClose(CloseCode.Unauthorized, 'token revoked')
    expect(client.status.get()).toBe('failed')
    expect(client.failure.get()).toEqual({ code: 4401, reason: 'token revoked' })
    await vi.advanceTimersByTimeAsync(60_000)
    expect(auth).toHaveBeenCalledTimes(2)
    expect(server.sockets).toHaveLength(2)
  })

  it('a welcome in between resets the 4401 count', async () => {
    const { server, client } = setup({ auth: () => 't' })
    for (let i = 0; i < 3; i++) {
      const socket = await welcomeNext(server)
      socket.serverClose(CloseCode.Unauthorized)
    }
    expect(client.status.get()).toBe('reconnecting')
  })

  it('when auth throws, reports the error and keeps retrying with backoff', async () => {
    let fail = true
    const { server, client, errors } = setup({
      auth: async () => {
        if (fail) throw new Error('token service down')
        return 'ok'
      },
    })
    await flush()
    expect(server.sockets).toHaveLength(0)
    expect(client.status.get()).toBe('reconnecting')
    expect(errors.map((error) => error.code)).toEqual(['auth_failed'])
    expect(errors[0]?.message).toMatch(/token service down/)
    await vi.advanceTimersByTimeAsync(125)
    expect(errors).toHaveLength(2)
    await vi.advanceTimersByTimeAsync(250)
    expect(errors).toHaveLength(3)
    fail = false
    await vi.advanceTimersByTimeAsync(500)
    server.last.welcome()
    expect(client.status.get()).toBe('connected')
    expect(server.last.received[0]).toMatchObject({ token: 'ok' })
  })

  it('when auth returns a non-string, reports it as auth_failed', async () => {
    const { errors } = setup({ auth: (() => 42) as never })
    await flush()
    expect(errors[0]?.code).toBe('auth_failed')
    expect(errors[0]?.message).toMatch(/string token/)
  })

  it('when the URL resolver throws or returns garbage, reports and retries', async () => {
    const results: (() => string)[] = [
      () => {
        throw new Error('discovery failed')
      },
      () => 'not a url',
      () => 'ws://ok.test',
    ]
    const { server, client, errors } = setup({ url: () => results.shift()!() })
    await flush()
    await vi.advanceTimersByTimeAsync(125)
    await vi.advanceTimersByTimeAsync(250)
    expect(errors.map((error) => error.code)).toEqual(['url_failed', 'url_failed'])
    expect(errors[0]?.message).toMatch(/discovery failed/)
    expect(errors[1]?.message).toMatch(/"not a url"/)
    server.last.welcome()
    expect(client.status.get()).toBe('connected')
    expect(server.last.url).toBe('ws://ok.test')
  })
})

describe('environment signals', () => {
  it('does not attempt while offline and connects at once when back online', async () => {
    const { server, client, environment } = setup({ autoConnect: false })
    environment.online.setOnline(false)
    client.connect()
    expect(client.status.get()).toBe('offline')
    await vi.advanceTimersByTimeAsync(60_000)
    expect(server.sockets).toHaveLength(0)
    environment.online.setOnline(true)
    await welcomeNext(server)
    expect(client.status.get()).toBe('connected')
  })

  it('going offline during a backoff wait stops attempts; online retries immediately', async () => {
    const { server, client, environment } = setup({ backoff: { random: () => 0.99 } })
    ;(await welcomeNext(server)).drop()
    for (let i = 0; i < 5; i++) {
      await vi.advanceTimersByTimeAsync(20_000)
      server.last.drop()
    }
    expect(client.status.get()).toBe('reconnecting')
    environment.online.setOnline(false)
    expect(client.status.get()).toBe('offline')
    const count = server.sockets.length
    await vi.advanceTimersByTimeAsync(60_000)
    expect(server.sockets).toHaveLength(count)
    environment.online.setOnline(true)
    await flush()
    expect(server.sockets).toHaveLength(count + 1)
  })

  it('a connection that drops while offline waits for online instead of retrying', async () => {
    const { server, client, environment } = setup()
    const socket = await welcomeNext(server)
    environment.online.setOnline(false)
    expect(client.status.get()).toBe('connected')
    socket.drop()
    expect(client.status.get()).toBe('offline')
    await vi.advanceTimersByTimeAsync(60_000)
    expect(server.sockets).toHaveLength(1)
  })

  it.each([
    [
      'the tab becomes visible',
      (env: ReturnType<typeof setup>['environment']) => {
        env.visibility.setVisible(false)
        env.visibility.setVisible(true)
      },
    ],
    [
      'pageshow fires',
      (env: ReturnType<typeof setup>['environment']) =>
        env.page.dispatch({ type: 'pageshow', persisted: true }),
    ],
    [
      'online fires',
      (env: ReturnType<typeof setup>['environment']) => {
        env.online.setOnline(false)
        env.online.setOnline(true)
      },
    ],
  ])('skips the backoff wait when %s', async (_, trigger) => {
    const { server, environment } = setup({ backoff: { random: () => 0.99 } })
    await flush()
    server.last.drop()
    for (let i = 0; i < 6; i++) {
      await vi.advanceTimersByTimeAsync(20_000)
      server.last.drop()
    }
    // Now waiting ~9.9 s.
    const count = server.sockets.length
    await vi.advanceTimersByTimeAsync(1000)
    expect(server.sockets).toHaveLength(count)
    trigger(environment)
    await flush()
    expect(server.sockets).toHaveLength(count + 1)
  })
})

describe('dead-peer detection', () => {
  it('answers server pings with a pong carrying the same id', async () => {
    const { server } = setup()
    const socket = await welcomeNext(server)
    socket.take()
    socket.deliver({ type: 'ping', id: 77 })
    expect(socket.take()).toEqual([{ type: 'pong', id: 77 }])
  })

  it('closes with 4408 and reconnects after pingInterval + grace without any frame', async () => {
    const { server, client } = setup()
    const socket = await welcomeNext(server, { pingIntervalMs: 10_000 })
    // Pings keep it alive.
    for (let i = 0; i < 5; i++) {
      await vi.advanceTimersByTimeAsync(10_000)
      socket.deliver({ type: 'ping', id: i })
    }
    expect(socket.clientClose).toBeUndefined()
    await vi.advanceTimersByTimeAsync(14_999)
    expect(socket.clientClose).toBeUndefined()
    await vi.advanceTimersByTimeAsync(1)
    expect(socket.clientClose?.code).toBe(CloseCode.Timeout)
    expect(client.status.get()).toBe('reconnecting')
    await vi.advanceTimersByTimeAsync(125)
    expect(server.sockets).toHaveLength(2)
  })

  it('after a late (throttled) timer probes with a ping instead of dropping a live connection', async () => {
    const { server, client } = setup()
    const socket = await welcomeNext(server, { pingIntervalMs: 10_000 })
    socket.take()
    // The tab slept for two minutes: wall clock jumps, timers fire late.
    vi.setSystemTime(Date.now() + 120_000)
    await vi.advanceTimersByTimeAsync(15_000)
    expect(socket.clientClose).toBeUndefined()
    const [probe] = socket.take('ping')
    expect(probe).toBeDefined()
    socket.deliver({ type: 'pong', id: probe!.id })
    await vi.advanceTimersByTimeAsync(3000)
    expect(socket.clientClose).toBeUndefined()
    expect(client.status.get()).toBe('connected')
  })

  it('after a late timer, an unanswered probe closes the connection after the probe window', async () => {
    const { server, client } = setup()
    const socket = await welcomeNext(server, { pingIntervalMs: 10_000 })
    vi.setSystemTime(Date.now() + 120_000)
    await vi.advanceTimersByTimeAsync(15_000)
    expect(socket.framesOf('ping')).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(2999)
    expect(socket.clientClose).toBeUndefined()
    await vi.advanceTimersByTimeAsync(1)
    expect(socket.clientClose?.code).toBe(CloseCode.Timeout)
    expect(client.status.get()).toBe('reconnecting')
  })

  it('going offline while connected probes the socket instead of trusting navigator.onLine', async () => {
    const { server, client, environment } = setup()
    const socket = await welcomeNext(server, { pingIntervalMs: 10_000 })
    await vi.advanceTimersByTimeAsync(1000)
    environment.online.setOnline(false)
    expect(socket.framesOf('ping')).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(2999)
    expect(socket.clientClose).toBeUndefined()
    await vi.advanceTimersByTimeAsync(1)
    expect(socket.clientClose?.code).toBe(CloseCode.Timeout)
    expect(client.status.get()).toBe('offline')
  })

  it('a false offline report does not drop a live connection', async () => {
    const { server, client, environment } = setup()
    const socket = await welcomeNext(server, { pingIntervalMs: 10_000 })
    environment.online.setOnline(false)
    const [probe] = socket.take('ping')
    socket.deliver({ type: 'pong', id: probe!.id })
    await vi.advanceTimersByTimeAsync(10_000)
    expect(socket.clientClose).toBeUndefined()
    expect(client.status.get()).toBe('connected')
  })
})

describe('lost and restored', () => {
  it('fires lost once after lostConnectionTimeout, and restored on reconnect', async () => {
    const { server, events } = setup({ handshakeTimeoutMs: 60_000 })
    ;(await welcomeNext(server)).drop()
    await vi.advanceTimersByTimeAsync(4999)
    expect(events).toEqual([])
    await vi.advanceTimersByTimeAsync(1)
    expect(events).toEqual(['lost'])
    // More failed attempts during the same outage do not fire it again.
    for (let i = 0; i < 4; i++) {
      server.last.drop()
      await vi.advanceTimersByTimeAsync(10_000)
    }
    expect(events).toEqual(['lost'])
    server.last.welcome()
    expect(events).toEqual(['lost', 'restored'])
  })

  it('a short blip fires neither', async () => {
    const { server, client, events } = setup()
    ;(await welcomeNext(server)).drop()
    await vi.advanceTimersByTimeAsync(125)
    server.last.welcome()
    await vi.advanceTimersByTimeAsync(10_000)
    expect(client.status.get()).toBe('connected')
    expect(events).toEqual([])
  })
})

describe('protocol errors', () => {
  it('reports garbage from the server and reconnects', async () => {
    const { server, client, errors } = setup()
    const socket = await welcomeNext(server)
    socket.sendRaw(new Uint8Array([250, 1, 2]).buffer)
    expect(errors.map((error) => error.code)).toEqual(['protocol_error'])
    expect(socket.clientClose?.code).toBe(CloseCode.MalformedFrame)
    expect(client.status.get()).toBe('reconnecting')
  })

  it('treats a text message as a protocol error', async () => {
    const { server, errors } = setup()
    const socket = await welcomeNext(server)
    socket.sendRaw('hello?')
    expect(errors[0]?.code).toBe('protocol_error')
  })

  it('rejects frames before welcome', async () => {
    const { server, errors } = setup()
    await flush()
    server.last.accept().deliver({ type: 'ping', id: 1 })
    expect(errors[0]?.message).toMatch(/ping before welcome/)
  })

  it('reports connection-level server errors without disconnecting', async () => {
    const { server, client, errors } = setup()
    const socket = await welcomeNext(server)
    socket.deliver({ type: 'error', handle: 0, code: 'rate_limited', message: 'slow down' })
    expect(errors[0]?.code).toBe('server_error')
    expect(errors[0]?.details).toEqual({ code: 'rate_limited' })
    expect(client.status.get()).toBe('connected')
  })
})

describe('destroy', () => {
  it('closes with 1000 and leaves no timer, socket or environment listener behind', async () => {
    const { server, client, environment, statuses } = setup()
    const socket = await welcomeNext(server)
    expect(environment.online.hasListeners()).toBe(true)
    expect(vi.getTimerCount()).toBeGreaterThan(0) // The watchdog.
    client.destroy()
    expect(socket.clientClose).toEqual({ code: 1000, reason: 'client destroyed' })
    expect(client.status.get()).toBe('closed')
    expect(statuses.at(-1)).toBe('closed')
    expect(vi.getTimerCount()).toBe(0)
    expect(environment.online.hasListeners()).toBe(false)
    expect(environment.visibility.hasListeners()).toBe(false)
    expect(environment.page.hasListeners()).toBe(false)
    await flush()
    expect(server.openSockets).toHaveLength(0)
    expect(() => client.join('r')).toThrow(/destroyed/)
  })

  it('during a backoff wait, cancels the retry', async () => {
    const { server, client } = setup()
    ;(await welcomeNext(server)).drop()
    client.destroy()
    expect(vi.getTimerCount()).toBe(0)
    await vi.advanceTimersByTimeAsync(60_000)
    expect(server.sockets).toHaveLength(1)
  })

  it('while the URL is still resolving, never opens a socket', async () => {
    let resolve: (url: string) => void = () => {}
    const { server, client } = setup({ url: () => new Promise((r) => (resolve = r)) })
    client.destroy()
    resolve('ws://late.test')
    await flush()
    expect(server.sockets).toHaveLength(0)
    expect(vi.getTimerCount()).toBe(0)
  })
})
