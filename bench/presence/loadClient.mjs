// Load-generator child process: opens a share of the room's simulated users against one
// target, sends their cursors on schedule, and records what they receive (run.mjs forks it).

import { now, sleepUntil } from './clock.mjs'
import { Histogram, judgePair } from './stats.mjs'

let config
const users = []
let stopping = false
const notes = new Map()
const note = (text) => {
  if (!stopping) notes.set(text, (notes.get(text) ?? 0) + 1)
}

// Measurements, all for the measured window [windowStart, windowEnd).
const latency = new Histogram()
const sendLag = new Histogram()
let deliveriesInWindow = 0
let deliveriesTotal = 0
let framesInWindow = 0
let echoesInWindow = 0
let sentInWindow = 0
let skippedSlots = 0
let measured = {
  start: Number.POSITIVE_INFINITY,
  end: Number.POSITIVE_INFINITY,
  drainEnd: Number.POSITIVE_INFINITY,
}

const send = (msg) => process.send(msg)

// Arrival time of the WebSocket message being handled: every state inside one message (a
// Syncline batch holds a whole tick) counts as received when the message arrived, not after
// its own decoding.
let arrival = 0

function makeUser(u) {
  const user = {
    u,
    seq: 0,
    next: 0,
    sendTimes: [],
    received: new Map(), // sender u -> Uint8Array bitmap of received seqs
    client: null,
  }
  const onState = (state) => {
    const t = arrival || now()
    if (state.u === u) {
      if (t >= measured.start && t < measured.end) echoesInWindow++
      return
    }
    // Receipts after the drain are ignored even when a busy event loop runs the report late.
    if (t >= measured.drainEnd) return
    deliveriesTotal++
    if (t >= measured.start && t < measured.end) deliveriesInWindow++
    if (state.t >= measured.start && state.t < measured.end) latency.add(t - state.t)
    let bits = user.received.get(state.u)
    if (bits === undefined) {
      bits = new Uint8Array(config.maxSeq + 1)
      user.received.set(state.u, bits)
    }
    if (state.seq <= config.maxSeq) bits[state.seq] = 1
  }
  const onFrame = () => {
    const t = now()
    arrival = t
    if (t >= measured.start && t < measured.end) framesInWindow++
  }
  return { user, onState, onFrame }
}

async function init(msg) {
  config = msg
  setTimeout(() => process.exit(3), msg.hardTimeoutMs).unref()
  const target = await import(`./targets/${msg.target}.mjs`)
  const started = now()
  const failures = []
  // Connect in small groups so the server is not hit by one thundering herd of handshakes.
  for (let i = 0; i < msg.users.length; i += 20) {
    const group = msg.users.slice(i, i + 20).map(async (u) => {
      const { user, onState, onFrame } = makeUser(u)
      try {
        user.client = await target.connect({
          host: msg.host,
          port: msg.port,
          room: msg.room,
          u,
          onState,
          onFrame,
          onNote: note,
          variant: msg.variant,
        })
        users.push(user)
      } catch (err) {
        failures.push(`user ${u}: ${err.message}`)
      }
    })
    await Promise.all(group)
  }
  send({ type: 'joined', connected: users.length, failures, connectMs: now() - started })
}

function position(u, seq) {
  const a = seq / 10 + u
  return { x: Math.round(800 + 600 * Math.cos(a)), y: Math.round(450 + 350 * Math.sin(a * 1.3)) }
}

// One scheduler for all users of this process: user u sends at t0 + offset(u) + k·period,
// the offsets spread evenly over a period. A user more than two periods behind skips the
// missed slots (counted), so a saturated load process shows up as a lower send rate.
function pump() {
  const { period } = config
  let t = now()
  if (t >= measured.end) return
  let soonest = Number.POSITIVE_INFINITY
  for (const user of users) {
    if (user.next <= t) {
      if (t - user.next > 2 * period) {
        const skip = Math.floor((t - user.next) / period)
        skippedSlots += skip
        user.next += skip * period
      }
      user.seq++
      t = now()
      const ts = Math.round(t * 1000) / 1000
      user.sendTimes[user.seq] = ts
      if (ts >= measured.start && ts < measured.end) {
        sentInWindow++
        sendLag.add(t - user.next)
      }
      const { x, y } = position(user.u, user.seq)
      user.client.send({ u: user.u, x, y, t: ts, seq: user.seq })
      user.next += period
    }
    if (user.next < soonest) soonest = user.next
  }
  setTimeout(pump, Math.max(0, soonest - now()))
}

async function start(msg) {
  measured = { start: msg.windowStart, end: msg.windowEnd, drainEnd: msg.drainEnd }
  for (const user of users) user.next = msg.t0 + (user.u / config.n) * config.period
  await sleepUntil(msg.t0)
  pump()
  await sleepUntil(msg.windowStart)
  const cpu0 = process.cpuUsage()
  const elu0 = performance.eventLoopUtilization()
  const wall0 = now()
  await sleepUntil(msg.windowEnd)
  const cpu = process.cpuUsage(cpu0)
  const elu = performance.eventLoopUtilization(elu0)
  const wall = now() - wall0
  await sleepUntil(msg.drainEnd)
  const sendTimes = {}
  for (const user of users) sendTimes[user.u] = user.sendTimes
  send({
    type: 'report',
    probe: config.probe === true,
    users: users.length,
    sentInWindow,
    skippedSlots,
    deliveriesInWindow,
    deliveriesTotal,
    framesInWindow,
    echoesInWindow,
    latency: latency.toJSON(),
    sendLag: sendLag.toJSON(),
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    wallSeconds: wall / 1000,
    elu: elu.utilization,
    notes: Object.fromEntries(notes),
    sendTimes,
  })
}

function judge(msg) {
  const counts = { expected: 0, delivered: 0, superseded: 0, lost: 0, lostWithinTwoTicks: 0 }
  const empty = new Uint8Array(0)
  const senders = Object.entries(msg.sendTimes)
  for (const user of users) {
    for (const [s, times] of senders) {
      const sender = Number(s)
      if (sender === user.u) continue
      const c = judgePair(
        times,
        user.received.get(sender) ?? empty,
        measured.start,
        measured.end,
        msg.toleranceMs,
      )
      for (const key of Object.keys(counts)) counts[key] += c[key]
    }
  }
  send({ type: 'judged', counts })
}

function stop() {
  stopping = true
  for (const user of users) {
    try {
      user.client.close()
    } catch {}
  }
  setTimeout(() => process.exit(0), 200)
}

process.on('disconnect', () => process.exit(0))
process.on('message', (msg) => {
  const handlers = { init, start, judge, stop }
  Promise.resolve(handlers[msg.type](msg)).catch((err) => {
    send({ type: 'fatal', error: String(err?.stack ?? err) })
    process.exit(1)
  })
})
