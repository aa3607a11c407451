// Seeded convergence: five real clients (createClient over `ws`), each behind its own switchable
// TCP link, make 1 000 random edits (Y.Text, Y.Array, Y.Map) in bursts while links are cut,
// restored and dropped at random and the server is restarted mid-run (same port, same store).
// At the end every client is synced with nothing pending, and every copy of the document — each
// client's, the server's (read through a fresh client) and the store's — is byte-identical.
//
// Seeds: 1..SYNCLINE_CONVERGENCE_SEEDS (default 20; `pnpm test:convergence` runs 200), or just
// SYNCLINE_CONVERGENCE_SEED=<n> to replay one. Network timing is real, so a seed fixes the
// edits' schedule and the chaos, not the exact interleaving with the network.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join as joinPath } from 'node:path'
import {
  createMemoryStore,
  type DocumentStore,
  loadDocument,
  type ServerOptions,
  type SynclineServer,
} from '@syncline/server'
import {
  createSwitchableProxy,
  type DocFingerprint,
  docChanges,
  docFingerprint,
  fingerprintDifference,
  randomEdit,
  randomEditRoots,
  type SwitchableProxy,
  seededRandom,
  waitForValue,
} from '@syncline/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { createSqliteStore } from '../../../../sqlite/src/index'
import type { Room } from '../../room'
import { readServerDoc, syncedAndSettled } from './documentHelpers'
import { createLive, synced } from './setup'

const live = createLive()
afterEach(() => live.cleanup())

const CLIENTS = 5
const OPERATIONS = 1_000
const ROOM = 'converge'

function seedList(): number[] {
  const one = process.env.SYNCLINE_CONVERGENCE_SEED
  if (one !== undefined && one !== '') return [Number(one)]
  const count = Number(process.env.SYNCLINE_CONVERGENCE_SEEDS ?? 20)
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new Error(`SYNCLINE_CONVERGENCE_SEEDS must be a positive integer, got ${count}`)
  }
  return Array.from({ length: count }, (_, index) => index + 1)
}

/** Lets sockets, timers and the server run for a few event-loop turns (not a timed sleep). */
async function turns(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise<void>((resolve) => setImmediate(resolve))
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')

/** What a run did, for the failure message. */
interface RunLog {
  events: string[]
}

function fingerprintOf(doc: Y.Doc): DocFingerprint {
  return docFingerprint(doc, randomEditRoots)
}

/** A store for the seed: memory usually, a SQLite file for every fifth seed. */
function storeFor(seed: number): { store: DocumentStore; kind: string } {
  if (seed % 5 !== 0) return { store: createMemoryStore(), kind: 'memory' }
  const dir = mkdtempSync(joinPath(tmpdir(), 'syncline-convergence-'))
  live.defer(() => rmSync(dir, { recursive: true, force: true }))
  return { store: createSqliteStore({ path: joinPath(dir, 'docs.db') }), kind: 'sqlite' }
}

async function run(seed: number, log: RunLog): Promise<void> {
  const random = seededRandom(seed)
  const note = (event: string) => {
    log.events.push(event)
    if (log.events.length > 60) log.events.shift()
  }
  const { store, kind } = storeFor(seed)
  const serverOptions: ServerOptions = {
    store,
    // Small batches and frequent compaction, so the restart finds a compacted log plus updates.
    persistence: {
      debounceMs: 1 + Math.floor(random() * 30),
      maxWaitMs: 100,
      compactAfterUpdates: 5 + Math.floor(random() * 30),
    },
  }
  let server: SynclineServer = await live.startServer(serverOptions)
  const port = server.port
  live.defer(async () => {
    await server.close()
    await store.close()
  })
  note(`store ${kind}, port ${port}`)

  const links: SwitchableProxy[] = []
  for (let i = 0; i < CLIENTS; i++) {
    const link = await createSwitchableProxy(port)
    live.defer(() => link.close())
    links.push(link)
  }
  const rooms: Room[] = links.map((link, i) =>
    live.client(link.port, {}).join(ROOM, { doc: true, presence: { client: i } }),
  )
  await Promise.all(rooms.map((room) => synced(room)))

  const stats = { offlineEdits: 0, checkpoints: 0 }
  const restartAfter = 3 + Math.floor(random() * 12)
  let remaining = OPERATIONS
  let burst = 0
  let restarted = false
  const editBurst = () => {
    const size = Math.min(remaining, 15 + Math.floor(random() * 50))
    let done = 0
    while (done < size) {
      const index = Math.floor(random() * CLIENTS)
      const doc = (rooms[index] as Room).doc
      if ((rooms[index] as Room).status.get() !== 'synced') stats.offlineEdits += 1
      if (random() < 0.15) {
        // Several edits in one transaction: one update on the wire.
        const count = Math.min(size - done, 2 + Math.floor(random() * 3))
        doc.transact(() => {
          for (let k = 0; k < count; k++) note(`#${index} ${randomEdit(doc, random)} (batched)`)
        })
        done += count
      } else {
        note(`#${index} ${randomEdit(doc, random)}`)
        done += 1
      }
    }
    remaining -= size
  }

  while (remaining > 0) {
    editBurst()
    // Network chaos on each link.
    for (const [index, link] of links.entries()) {
      const roll = random()
      if (link.online && roll < 0.08) {
        link.cut()
        note(`cut #${index}`)
      } else if (!link.online && roll < 0.35) {
        link.restore()
        note(`restore #${index}`)
      } else if (link.online && roll < 0.14) {
        link.drop()
        note(`drop #${index}`)
      }
    }
    if (burst === restartAfter && !restarted) {
      restarted = true
      note('server close')
      await server.close()
      // Everyone edits while the server is down.
      if (remaining > 0) editBurst()
      server = await live.startServer({ ...serverOptions, port })
      note('server restarted')
    }
    // Let the network run: sometimes a few event-loop turns, sometimes until a connected client
    // has caught up (which takes real round trips, and reconnects for dropped links).
    const online = rooms.filter((_, index) => links[index]?.online)
    if (random() < 0.3 && online.length > 0) {
      const room = online[Math.floor(random() * online.length)] as Room
      await syncedAndSettled(room, 10_000)
      stats.checkpoints += 1
    } else {
      await turns(1 + Math.floor(random() * 5))
    }
    burst += 1
  }
  if (!restarted) throw new Error('the run ended before the server restart')

  // Everyone back online: every client ends synced with nothing pending.
  for (const link of links) link.restore()
  note('all links restored')
  await Promise.all(rooms.map((room) => syncedAndSettled(room, 15_000)))

  // The server holds every client's edits now; each client converges on exactly that.
  const expected = await readServerDoc(live, port, ROOM, fingerprintOf, 10_000)
  await Promise.all(
    rooms.map((room, index) =>
      waitForValue(docChanges(room.doc), (doc) => fingerprintOf(doc).update === expected.update, {
        timeoutMs: 10_000,
        label: `client #${index} to converge on the server's document`,
      }),
    ),
  )
  for (const [index, room] of rooms.entries()) {
    expect(fingerprintDifference(fingerprintOf(room.doc), expected), `client #${index}`).toBe(
      undefined,
    )
    expect(room.status.get(), `client #${index}`).toBe('synced')
    expect(room.hasPendingWrites.get(), `client #${index}`).toBe(false)
  }
  // The chaos happened: edits were made while out of sync, and every client reconnected (at
  // least after the restart).
  expect(stats.offlineEdits).toBeGreaterThan(0)
  for (const [index, link] of links.entries()) {
    expect(link.accepted, `connections of #${index}`).toBeGreaterThanOrEqual(2)
  }
  // The clients' own encodings agree too: Yjs merges neighbouring items as it integrates them,
  // so equal states end in equal struct stores (this held over 200+ seeds).
  const raw = rooms.map((room) => hex(Y.encodeStateAsUpdate(room.doc)))
  for (const [index, bytes] of raw.entries()) expect(bytes, `raw state of #${index}`).toBe(raw[0])

  // And what the store holds after the last server flushed is the same document.
  await server.close()
  expect(server.stats()).toMatchObject({ connections: 0, rooms: 0, documents: 0, timers: 0 })
  const stored = await loadDocument(store, ROOM)
  if (stored === null) throw new Error('nothing stored')
  const storedDoc = new Y.Doc()
  Y.applyUpdate(storedDoc, stored)
  expect(fingerprintDifference(fingerprintOf(storedDoc), expected), 'the stored document').toBe(
    undefined,
  )
  storedDoc.destroy()
}

describe('seeded convergence', () => {
  it.for(seedList())(
    'seed %i: 5 clients, 1 000 edits, cut/dropped links and a server restart end byte-identical',
    { timeout: 60_000 },
    async (seed) => {
      const log: RunLog = { events: [] }
      try {
        await run(seed, log)
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error)
        throw new Error(
          `convergence failed for seed ${seed} (replay: SYNCLINE_CONVERGENCE_SEED=${seed}): ${message}\nlast events:\n  ${log.events.join('\n  ')}`,
          { cause: error },
        )
      }
    },
  )
})
