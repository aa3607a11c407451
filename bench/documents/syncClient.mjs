// Client child process for the initial-sync measurement: joins the large document as a new
// client on request and reports how long the sync took (the server runs in another process).
import { readFileSync } from 'node:fs'
import * as Y from 'yjs'
import { openDocClient } from './docClient.mjs'

let config
let target
let expected
const held = []

async function init(msg) {
  config = msg
  setTimeout(() => process.exit(3), msg.hardTimeoutMs).unref()
  target = await import(`./targets/${msg.target}.mjs`)
  // Apply the document once locally: this process's Yjs code is then JIT-warm for every sample,
  // so the samples differ by what the server does, not by the client warming up.
  const warm = new Y.Doc()
  Y.applyUpdate(warm, new Uint8Array(readFileSync(msg.seedFile)))
  expected = warm.getText('text').toString()
  warm.destroy()
  process.send({ type: 'ready' })
}

async function join(msg) {
  const doc = new Y.Doc()
  const client = openDocClient({
    target,
    host: config.host,
    port: msg.port,
    room: config.room,
    doc,
  })
  const timeout = setTimeout(() => client.ws.terminate(), msg.timeoutMs)
  try {
    await client.synced
  } finally {
    clearTimeout(timeout)
  }
  const text = doc.getText('text').toString()
  const { times, counts } = client
  if (msg.hold) held.push(client)
  else {
    await client.close()
    doc.destroy()
  }
  process.send({
    type: 'joined',
    correct: text === expected,
    length: text.length,
    connectMs: times.open - times.start,
    // open → step 2 received: the server's share (load, encode, send) plus loopback transfer.
    toStep2Ms: times.step2 - times.open,
    // open → step 2 applied: the time until the client is synced (what a user waits for).
    syncedMs: times.applied - times.open,
    totalMs: times.applied - times.start,
    step2Bytes: counts.step2Bytes,
    messages: counts.messages,
  })
}

async function stop() {
  await Promise.all(held.map((c) => c.close()))
  process.exit(0)
}

process.on('disconnect', () => process.exit(0))
process.on('message', (msg) => {
  const handlers = { init, join, stop }
  Promise.resolve(handlers[msg.type](msg)).catch((err) => {
    process.send({ type: 'fatal', error: String(err?.stack ?? err) })
    process.exit(1)
  })
})
