// Server child process for the documents benchmark: runs one target's server alone (optionally
// with a room preloaded into its store) and measures this process's CPU over a window.
import { readFileSync } from 'node:fs'
import { register } from 'node:module'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { Worker } from 'node:worker_threads'
import { now, sleepUntil } from '../presence/clock.mjs'

let server
const LOOP_DELAY_RESOLUTION_MS = 20

const memory = () => {
  globalThis.gc?.()
  const m = process.memoryUsage()
  return { rss: m.rss, heapUsed: m.heapUsed }
}

async function init(msg) {
  setTimeout(() => process.exit(3), msg.hardTimeoutMs).unref()
  // See yjs13Hooks.mjs: the y-websocket server's own dependency tree cannot sync documents.
  if (msg.target === 'ywebsocket') register('./yjs13Hooks.mjs', import.meta.url)
  const target = await import(`./targets/${msg.target}.mjs`)
  const seed = msg.seedFile
    ? { room: msg.room, update: new Uint8Array(readFileSync(msg.seedFile)) }
    : undefined
  const started = now()
  server = await target.startServer({ host: msg.host, seed })
  process.send({ type: 'ready', port: server.port, startMs: now() - started, mem: memory() })
}

// CPU is sampled by the presence benchmark's worker (cpuSampler.mjs, side pipe fd 4) so that a
// busy main loop cannot delay the samples; loop utilisation and delay are best effort.
async function measure(msg) {
  new Worker(new URL('../presence/cpuSampler.mjs', import.meta.url), {
    workerData: { windowStart: msg.windowStart, windowEnd: msg.windowEnd, fd: 4 },
  }).unref()
  // A coarse resolution: the monitor is a timer in this process, and at 5 ms its 200 wakeups/s
  // cost every server about 5 ms of CPU per second (measured at a near-idle load), which would
  // count against all targets alike and pull their ratios towards 1.
  const delay = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS })
  await sleepUntil(msg.windowStart)
  const elu0 = performance.eventLoopUtilization()
  delay.enable()
  await sleepUntil(msg.windowEnd)
  const elu = performance.eventLoopUtilization(elu0)
  delay.disable()
  process.send({
    type: 'measured',
    elu: elu.utilization,
    // The histogram holds the intervals between the monitor's timer callbacks: what exceeds the
    // resolution is the delay.
    loopDelayP99Ms: Math.max(0, delay.percentile(99) / 1e6 - LOOP_DELAY_RESOLUTION_MS),
  })
}

function mem() {
  process.send({ type: 'mem', ...memory() })
}

async function stop() {
  const timer = setTimeout(() => process.exit(0), 2000)
  try {
    await server?.close()
  } catch {}
  clearTimeout(timer)
  process.exit(0) // also writes the --cpu-prof profile, when enabled
}

process.on('disconnect', () => process.exit(0))
process.on('message', (msg) => {
  const handlers = { init, measure, mem, stop }
  Promise.resolve(handlers[msg.type](msg)).catch((err) => {
    process.send({ type: 'fatal', error: String(err?.stack ?? err) })
    process.exit(1)
  })
})
