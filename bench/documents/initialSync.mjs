// Measurement 1: how long a newly joining client takes to sync the large document, cold (the
// first join after a server start, loaded from the store) and warm (already in memory).
import { fileURLToPath } from 'node:url'
import { Child } from '../presence/child.mjs'
import { sleep } from '../presence/clock.mjs'

const here = (file) => fileURLToPath(new URL(file, import.meta.url))
const HOST = '127.0.0.1'
export const SYNC_ROOM = 'large-doc'

function startServer(target, opts, hardTimeoutMs) {
  const execArgv = ['--expose-gc', ...(opts.cpuProf ? opts.cpuProfArgs(`${target}-sync`) : [])]
  const server = new Child(here('./serverProcess.mjs'), {
    name: `${target} server`,
    execArgv,
    sidePipe: true,
  })
  server.send({
    type: 'init',
    target,
    host: HOST,
    seedFile: opts.seedFile,
    room: SYNC_ROOM,
    hardTimeoutMs,
  })
  return server
}

/** Cold and warm samples for one target. */
export async function runInitialSync(target, opts) {
  const { reps, seedFile } = opts
  const hardTimeoutMs = 120_000
  const client = new Child(here('./syncClient.mjs'), { name: `${target} sync client` })
  const children = [client]
  const join = async (port, hold = false) => {
    client.send({ type: 'join', port, hold, timeoutMs: 20_000 })
    const r = await client.waitFor('joined', 25_000)
    if (!r.correct) throw new Error(`${target}: synced text differs from the stored document`)
    return r
  }
  try {
    client.send({ type: 'init', target, host: HOST, room: SYNC_ROOM, seedFile, hardTimeoutMs })
    await client.waitFor('ready', 30_000)

    // Cold: a fresh server process per sample; the document is in its store, not in memory.
    const cold = []
    for (let i = 0; i < reps; i++) {
      const server = startServer(target, opts, hardTimeoutMs)
      children.push(server)
      const ready = await server.waitFor('ready', 20_000)
      await sleep(200) // let the fresh process settle (module loading, first GC)
      cold.push({ ...(await join(ready.port)), serverStartMs: ready.startMs })
      await server.stop()
    }

    // Warm: one server; a holder keeps the document loaded, then new clients join one by one.
    const server = startServer(target, opts, hardTimeoutMs)
    children.push(server)
    const ready = await server.waitFor('ready', 20_000)
    await sleep(200)
    await join(ready.port, true)
    for (let i = 0; i < 2; i++) await join(ready.port) // discarded: server JIT warm-up
    // Warm joins are cheap, so three times as many: their medians differ by milliseconds.
    const warm = []
    for (let i = 0; i < 3 * reps; i++) {
      await sleep(50)
      warm.push(await join(ready.port))
    }
    server.send({ type: 'mem' })
    const mem = await server.maybe('mem', 5000)
    await server.stop()
    await client.stop()
    return { target, cold, warm, serverRssMB: mem ? mem.rss / 1024 / 1024 : null }
  } finally {
    for (const c of children) c.kill()
  }
}
