// The <script>-tag bundle: runs in a bare global scope (no module system, no require) and
// exposes window.Syncline. Needs `pnpm build` first; the root `pnpm test` builds before testing.
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { runInNewContext } from 'node:vm'
import { createFakeServer, serviceAvailable } from '@syncline/test-utils'
import { describe, expect, it } from 'vitest'

const bundlePath = fileURLToPath(new URL('../../dist/syncline.global.js', import.meta.url))
// In CI (SYNCLINE_REQUIRE_SERVICES=1) a missing build fails instead of skipping.
const built = serviceAvailable(
  'The browser bundle',
  existsSync(bundlePath),
  `run pnpm build → ${bundlePath}`,
)

describe.skipIf(!built)('browser bundle (dist/syncline.global.js)', () => {
  it('defines the Syncline global, with everything public, and connects', async () => {
    const server = createFakeServer()
    const context: Record<string, unknown> = {
      WebSocket: server.WebSocket,
      setTimeout,
      clearTimeout,
      queueMicrotask,
      TextEncoder,
      TextDecoder,
      URL,
      // Every browser has it, secure context or not; Yjs draws client ids from it at load.
      crypto: globalThis.crypto,
    }
    context.window = context
    runInNewContext(readFileSync(bundlePath, 'utf8'), context)
    const Syncline = context.Syncline as typeof import('../index')
    expect(typeof Syncline.createClient).toBe('function')
    expect(typeof Syncline.throttle).toBe('function')
    expect(typeof Syncline.createCursorInterpolator).toBe('function')
    expect(typeof Syncline.DocSync).toBe('function')
    expect(typeof Syncline.createUndoManager).toBe('function')
    const client = Syncline.createClient({
      url: 'wss://example.test',
      environment: Syncline.createEnvironment(),
    })
    await new Promise((resolve) => setTimeout(resolve, 0))
    server.last.welcome()
    expect(client.status.get()).toBe('connected')
    // Yjs is bundled: a room document works from the plain script too.
    const room = client.join('r', { doc: true })
    room.doc.getText('t').insert(0, 'hi')
    expect(room.doc.getText('t').toString()).toBe('hi')
    expect(room.hasPendingWrites.get()).toBe(true)
    client.destroy()
  })
})
