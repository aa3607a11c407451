// Load-generator child process for the fan-out measurement: a share of the 50 editors, each a
// lean client with its own Y.Doc typing into the shared Y.Text on schedule, recording when each
// edit (clientID, clock) was typed and when every other editor received it.
import { createHash } from 'node:crypto'
import * as Y from 'yjs'
import { now, sleepUntil } from '../presence/clock.mjs'
import { Histogram } from '../presence/stats.mjs'
import { openDocClient } from './docClient.mjs'

let config
const users = []
let window = {
  start: Number.POSITIVE_INFINITY,
  end: Number.POSITIVE_INFINITY,
  drainEnd: Number.POSITIVE_INFINITY,
}
const sendLag = new Histogram()
const counts = {
  deliveriesInWindow: 0,
  deliveriesTotal: 0,
  duplicates: 0,
  messagesInWindow: 0,
  echoesInWindow: 0,
  acksInWindow: 0,
  sentInWindow: 0,
  sentTotal: 0,
}
const inWindow = (t) => t >= window.start && t < window.end

// Editor u has Yjs clientID u + 1; each of its edits inserts one character, so its n-th edit
// has clock n - 1 and clocks index the per-sender arrays directly.
function makeUser(u, target) {
  const doc = new Y.Doc()
  doc.clientID = u + 1
  const text = doc.getText('text')
  const { n, maxClock } = config
  const received = new Float64Array(n * maxClock).fill(Number.NaN)
  const user = { u, doc, text, received, sendTimes: [], cursor: null, client: null }
  const onRemote = (update, arrival) => {
    if (arrival >= window.drainEnd) return
    if (inWindow(arrival)) counts.messagesInWindow++
    const meta = Y.parseUpdateMeta(update)
    for (const [client, from] of meta.from) {
      const sender = client - 1
      const to = meta.to.get(client)
      if (sender === u) {
        if (inWindow(arrival)) counts.echoesInWindow += to - from
        continue
      }
      for (let clock = from; clock < to && clock < maxClock; clock++) {
        const i = sender * maxClock + clock
        if (!Number.isNaN(received[i])) {
          counts.duplicates++
          continue
        }
        received[i] = arrival
        counts.deliveriesTotal++
        if (inWindow(arrival)) counts.deliveriesInWindow++
      }
    }
  }
  const onAck = () => {
    if (inWindow(now())) counts.acksInWindow++
  }
  user.client = openDocClient({
    target,
    host: config.host,
    port: config.port,
    room: config.room,
    doc,
    onRemote,
    onAck,
    deferRemote: true,
  })
  return user
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz '

/** One keystroke: insert a character at the editor's own cursor (a relative position). */
function type(user) {
  const { doc, text } = user
  user.client.applyRemote() // what arrived since the last keystroke, as an editor would show it
  const index = user.cursor
    ? (Y.createAbsolutePositionFromRelativePosition(user.cursor, doc)?.index ?? text.length)
    : 0
  const clock = Y.getState(doc.store, doc.clientID)
  const t = now()
  doc.transact(() => text.insert(index, ALPHABET[(user.u + clock) % ALPHABET.length]), 'local')
  user.sendTimes[clock] = t
  user.cursor = Y.createRelativePositionFromTypeIndex(text, index + 1, -1)
  counts.sentTotal++
  if (inWindow(t)) counts.sentInWindow++
  return t
}

async function init(msg) {
  config = msg
  setTimeout(() => process.exit(3), msg.hardTimeoutMs).unref()
  const target = await import(`./targets/${msg.target}.mjs`)
  const failures = []
  // Connect in small groups so the server is not hit by one thundering herd of handshakes.
  for (let i = 0; i < msg.users.length; i += 10) {
    const group = msg.users.slice(i, i + 10).map((u) => makeUser(u, target))
    users.push(...group)
    const settled = await Promise.allSettled(group.map((user) => user.client.synced))
    for (const s of settled) if (s.status === 'rejected') failures.push(String(s.reason?.message))
  }
  process.send({ type: 'joined', failures })
}

async function start(msg) {
  window = { start: msg.windowStart, end: msg.windowEnd, drainEnd: msg.drainEnd }
  const period = 1000 / config.rate
  const cpu0 = process.cpuUsage()
  const elu0 = performance.eventLoopUtilization()
  // Each editor types on its own schedule, phases spread evenly over one period.
  const typing = users.map(async (user) => {
    let at = msg.t0 + (user.u / config.n) * period
    while (at < msg.typingEnd && user.sendTimes.length < config.maxClock) {
      await sleepUntil(at)
      const t = type(user)
      if (inWindow(t)) sendLag.add(t - at)
      at += period
    }
  })
  await Promise.all(typing)
  await sleepUntil(msg.windowEnd)
  const cpu = process.cpuUsage(cpu0)
  const elu = performance.eventLoopUtilization(elu0)
  await sleepUntil(msg.drainEnd)
  const texts = users.map((user) => {
    user.client.applyRemote()
    return user.text.toString()
  })
  process.send({
    type: 'report',
    users: users.map((user) => user.u),
    sendTimes: Object.fromEntries(users.map((user) => [user.u, user.sendTimes])),
    counts,
    sendLag: sendLag.toJSON(),
    hashes: texts.map((s) => createHash('sha256').update(s).digest('hex').slice(0, 16)),
    lengths: texts.map((s) => s.length),
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    elu: elu.utilization,
  })
}

/** Latency of every edit typed inside the window, at every other editor; and what never came. */
function judge(msg) {
  const latency = new Histogram()
  let missing = 0
  let expected = 0
  const { maxClock } = config
  for (const user of users) {
    for (const [senderKey, times] of Object.entries(msg.sendTimes)) {
      const sender = Number(senderKey)
      if (sender === user.u) continue
      for (let clock = 0; clock < times.length; clock++) {
        const sent = times[clock]
        if (sent === null || sent === undefined) continue
        expected++
        const got = user.received[sender * maxClock + clock]
        if (Number.isNaN(got)) missing++
        else if (inWindow(sent)) latency.add(got - sent)
      }
    }
  }
  process.send({ type: 'judged', latency: latency.toJSON(), missing, expected })
}

async function stop() {
  await Promise.all(users.map((user) => user.client.close()))
  process.exit(0)
}

process.on('disconnect', () => process.exit(0))
process.on('message', (msg) => {
  const handlers = { init, start, judge, stop }
  Promise.resolve(handlers[msg.type](msg)).catch((err) => {
    process.send({ type: 'fatal', error: String(err?.stack ?? err) })
    process.exit(1)
  })
})
