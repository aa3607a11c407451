// A lean document client over raw `ws`, the same for every target: the target only wraps and
// unwraps y-protocols sync messages; this does the Yjs work and records when things happened.
import WebSocket from 'ws'
import * as Y from 'yjs'
import { now } from '../presence/clock.mjs'
import * as sync from './ysync.mjs'

/**
 * Opens one client for `room`. `doc` is its Y.Doc; local transactions with origin 'local'
 * are sent as updates. `onRemote(update, arrival)` sees every update received from the server
 * before it is applied. Resolves `synced` when the server's step 2 has been applied.
 *
 * With `deferRemote`, received updates are queued and applied together in one transaction by
 * `applyRemote()` (an editor calls it before each keystroke): the same end state for a fraction
 * of the load generator's CPU (one transaction's cleanup per batch instead of per update).
 */
export function openDocClient({ target, host, port, room, doc, onRemote, onAck, deferRemote }) {
  const times = { start: now(), open: null, step2: null, applied: null }
  const counts = { messages: 0, bytes: 0, step2Bytes: 0, acks: 0 }
  const t = target.transport({ host, port, room })
  const ws = new WebSocket(t.url, { perMessageDeflate: false })
  let settle
  const synced = new Promise((resolve, reject) => {
    settle = { resolve, reject }
  })
  synced.catch(() => {})
  ws.on('error', (err) => settle.reject(err))
  ws.on('close', (code, reason) => settle.reject(new Error(`closed ${code} ${reason}`)))
  ws.on('open', () => {
    times.open = now()
    for (const bytes of t.opening(sync.step1(doc))) ws.send(bytes)
  })
  let pending = []
  const applyRemote = () => {
    if (pending.length === 0) return
    const batch = pending
    pending = []
    doc.transact(() => {
      for (const update of batch) Y.applyUpdate(doc, update, 'remote')
    }, 'remote')
  }
  const reply = (bytes) => ws.send(bytes)
  const control = (kind) => {
    if (kind === 'ack') {
      counts.acks++
      onAck?.()
    }
  }
  ws.on('message', (data) => {
    const arrival = now()
    counts.messages++
    counts.bytes += data.byteLength
    let messages
    try {
      messages = t.receive(data, reply, control)
    } catch (err) {
      settle.reject(err)
      ws.close()
      return
    }
    for (const bytes of messages) {
      const { type, payload } = sync.readSync(bytes)
      if (type === sync.STEP1) {
        ws.send(t.send(sync.step2For(doc, payload)))
      } else if (type === sync.STEP2) {
        times.step2 ??= arrival
        counts.step2Bytes ||= bytes.byteLength
        Y.applyUpdate(doc, payload, 'remote')
        times.applied ??= now()
        settle.resolve()
      } else if (type === sync.UPDATE) {
        onRemote?.(payload, arrival)
        if (deferRemote) pending.push(payload)
        else Y.applyUpdate(doc, payload, 'remote')
      }
    }
  })
  const onUpdate = (update, origin) => {
    if (origin === 'local' && ws.readyState === WebSocket.OPEN) ws.send(t.send(sync.update(update)))
  }
  doc.on('update', onUpdate)
  return {
    ws,
    times,
    counts,
    synced,
    applyRemote,
    close() {
      doc.off('update', onUpdate)
      return new Promise((resolve) => {
        if (ws.readyState === WebSocket.CLOSED) return resolve()
        ws.once('close', resolve)
        ws.close()
        setTimeout(() => {
          ws.terminate()
          resolve()
        }, 1000).unref()
      })
    },
  }
}
