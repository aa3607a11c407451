import { CloseCode, PROTOCOL_VERSION } from '@syncline/protocol'
import { openTestSocket, UpgradeRefusedError } from '@syncline/test-utils'
import { describe, expect, it } from 'vitest'
import type { AuthenticateRequest, SynclineServer } from '../index'
import { join, useServer } from './harness'

const { start, client } = useServer()
let server: SynclineServer | undefined

async function refusedStatus(path: string, headers: Record<string, string> = {}) {
  if (!server) throw new Error('start a server first')
  const error = await openTestSocket(`ws://127.0.0.1:${server.port}${path}`, { headers }).then(
    async (socket) => {
      await socket.close()
      throw new Error('the upgrade was accepted')
    },
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(UpgradeRefusedError)
  return (error as UpgradeRefusedError).status
}

describe('plain HTTP', () => {
  it('serves /healthz with connection and room counts', async () => {
    server = await start()
    const a = await client()
    await join(a, 1, 'r')
    const response = await fetch(`http://127.0.0.1:${server.port}/healthz`)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^application\/json/)
    expect(await response.json()).toEqual({ status: 'ok', connections: 1, rooms: 1 })
  })

  it('answers 404 elsewhere and 426 for a plain GET of the WebSocket paths', async () => {
    server = await start()
    const base = `http://127.0.0.1:${server.port}`
    expect((await fetch(`${base}/nope`)).status).toBe(404)
    expect((await fetch(`${base}/yjs`)).status).toBe(404)
    expect((await fetch(`${base}/yjs/room`)).status).toBe(426)
    const root = await fetch(`${base}/`)
    expect(root.status).toBe(426)
    expect(root.headers.get('upgrade')).toBe('websocket')
  })
})

describe('upgrade checks', () => {
  it('refuses WebSocket upgrades on other paths with 404', async () => {
    server = await start()
    expect(await refusedStatus('/elsewhere')).toBe(404)
    expect(await refusedStatus('/yjs')).toBe(404)
  })

  it('enforces allowedOrigins with 403 and allows requests without Origin', async () => {
    server = await start({ allowedOrigins: ['http://localhost:5173', 'https://app.test'] })
    expect(await refusedStatus('/', { origin: 'https://evil.test' })).toBe(403)
    expect(await refusedStatus('/', { origin: 'null' })).toBe(403)
    const listed = await client({ ws: { headers: { origin: 'http://localhost:5173' } } })
    expect(listed.welcome.type).toBe('welcome')
    const noOrigin = await client()
    expect(noOrigin.welcome.type).toBe('welcome')
  })

  it('checks an Authorization bearer at the upgrade: throw → 401, user → authenticated', async () => {
    const calls: AuthenticateRequest[] = []
    server = await start({
      authenticate: async (request) => {
        calls.push(request)
        if (request.token === 'bad') throw new Error('nope')
        return { userId: `u-${request.token}` }
      },
    })
    expect(await refusedStatus('/', { authorization: 'Bearer bad' })).toBe(401)
    const a = await client({ ws: { headers: { authorization: 'Bearer good' } }, token: 'ignored' })
    expect(a.welcome.userId).toBe('u-good')
    // Pre-authenticated: the hello token was not checked again.
    expect(calls.map((c) => [c.phase, c.token])).toEqual([
      ['upgrade', 'bad'],
      ['upgrade', 'good'],
    ])
  })

  it('checks cookies at the upgrade; null defers to the hello token', async () => {
    const calls: AuthenticateRequest[] = []
    server = await start({
      authenticate: async (request) => {
        calls.push(request)
        if (request.phase === 'upgrade') {
          const session = /session=(\w+)/.exec(request.headers.cookie ?? '')?.[1]
          if (session === 'stolen') throw new Error('revoked')
          return session === 'valid' ? { userId: 'cookie-user' } : null
        }
        return request.token === 'tok' ? { userId: 'token-user' } : null
      },
    })
    expect(await refusedStatus('/', { cookie: 'session=stolen' })).toBe(401)
    const byCookie = await client({ ws: { headers: { cookie: 'session=valid' } } })
    expect(byCookie.welcome.userId).toBe('cookie-user')
    const deferred = await client({ ws: { headers: { cookie: 'theme=dark' } }, token: 'tok' })
    expect(deferred.welcome.userId).toBe('token-user')
    const refused = await client({ ws: { headers: { cookie: 'theme=dark' } }, hello: false })
    refused.send({ type: 'hello', version: PROTOCOL_VERSION, token: 'wrong' })
    expect((await refused.closed).code).toBe(CloseCode.Unauthorized)
    expect(calls.filter((c) => c.phase === 'upgrade')).toHaveLength(4)
  })

  it('does not call authenticate at the upgrade when the request carries no credentials', async () => {
    const phases: string[] = []
    server = await start({
      authenticate: async (request) => {
        phases.push(request.phase)
        return { userId: 'x' }
      },
    })
    await client({ token: 't' })
    expect(phases).toEqual(['hello'])
  })
})
