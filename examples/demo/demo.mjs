// Starts the demo: one Syncline server plus a tiny static server for the page, which uses the
// browser bundle of @syncline/core from a plain <script> tag. Used by server.mjs and the e2e test.

import { mkdirSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createServer as createHttpServer } from 'node:http'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createServer } from '@syncline/server'
import { createSqliteStore } from '@syncline/sqlite'

const here = dirname(fileURLToPath(import.meta.url))
const require = createRequire(import.meta.url)

const files = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/index.html': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/style.css': ['style.css', 'text/css; charset=utf-8'],
}

/**
 * Starts the Syncline server (documents kept in SQLite) and the page server.
 * @param {{ host?: string, webPort?: number, syncPort?: number, dataDir?: string }} [options]
 *   `dataDir`: where the SQLite file lives; `':memory:'` keeps nothing.
 */
export async function startDemo({
  host = '127.0.0.1',
  webPort = 3000,
  syncPort = 4321,
  dataDir = join(here, 'data'),
} = {}) {
  const bundlePath = join(
    dirname(require.resolve('@syncline/core/package.json')),
    'dist/syncline.global.js',
  )
  const web = createHttpServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    try {
      if (path === '/syncline.js') {
        res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' })
        res.end(await readFile(bundlePath))
        return
      }
      if (path === '/config.js') {
        const hostname = (req.headers.host ?? host).replace(/:\d+$/, '')
        res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' })
        res.end(`window.SYNCLINE_URL = ${JSON.stringify(`ws://${hostname}:${sync.port}`)}\n`)
        return
      }
      const file = files[path]
      if (!file) {
        res.writeHead(404).end('not found')
        return
      }
      res.writeHead(200, { 'content-type': file[1] })
      res.end(await readFile(join(here, 'public', file[0])))
    } catch (error) {
      res.writeHead(500).end(String(error))
    }
  })
  await new Promise((resolve, reject) => {
    web.once('error', reject)
    web.listen(webPort, host, resolve)
  })
  const actualWebPort = web.address().port
  const origins = [`http://localhost:${actualWebPort}`, `http://127.0.0.1:${actualWebPort}`]
  let path = ':memory:'
  if (dataDir !== ':memory:') {
    mkdirSync(dataDir, { recursive: true })
    path = join(dataDir, 'documents.db')
  }
  const sync = createServer({
    port: syncPort,
    host,
    allowedOrigins: origins,
    store: createSqliteStore({ path }),
  })
  await sync.listen()

  return {
    webUrl: `http://127.0.0.1:${actualWebPort}`,
    syncUrl: `ws://${host}:${sync.port}`,
    sync,
    async close() {
      await sync.close()
      await new Promise((resolve) => web.close(resolve))
    },
  }
}
