// Server child process: runs one target's server alone in its own process and measures that
// process itself (CPU over the measured window, memory), reporting to run.mjs over IPC.
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { Worker } from 'node:worker_threads'
import { now, sleepUntil } from './clock.mjs'

let server

const memory = () => {
  globalThis.gc?.()
  const m = process.memoryUsage()
  return { rss: m.rss, heapUsed: m.heapUsed }
}

async function init(msg) {
  setTimeout(() => process.exit(3), msg.hardTimeoutMs).unref()
  const baseline = memory()
  const target = await import(`./targets/${msg.target}.mjs`)
  server = await target.startServer({ host: msg.host, tickMs: msg.tickMs })
  process.send({ type: 'ready', port: server.port, baseline, afterStart: memory() })
}

// CPU is sampled by a worker thread of this process (cpuSampler.mjs) and reported over the
// side pipe (fd 4), because a saturated server's main loop may run its timers and IPC seconds
// late. The main loop's own utilisation and delay are reported here, best effort.
async function measure(msg) {
  new Worker(new URL('./cpuSampler.mjs', import.meta.url), {
    workerData: { windowStart: msg.windowStart, windowEnd: msg.windowEnd, fd: 4 },
  }).unref()
  const delay = monitorEventLoopDelay({ resolution: 5 })
  await sleepUntil(msg.windowStart)
  const elu0 = performance.eventLoopUtilization()
  const wall0 = now()
  delay.enable()
  await sleepUntil(msg.windowEnd)
  const elu = performance.eventLoopUtilization(elu0)
  delay.disable()
  process.send({
    type: 'measured',
    lateStartMs: wall0 - msg.windowStart,
    elu: elu.utilization,
    loopDelayP99Ms: delay.percentile(99) / 1e6,
  })
}

function mem(msg) {
  process.send({ type: 'mem', label: msg.label, ...memory() })
}

async function stop() {
  const timer = setTimeout(() => process.exit(0), 2000)
  try {
    await server?.close()
  } catch {}
  clearTimeout(timer)
  process.exit(0)
}

process.on('disconnect', () => process.exit(0))
process.on('message', (msg) => {
  const handlers = { init, measure, mem, stop }
  Promise.resolve(handlers[msg.type](msg)).catch((err) => {
    process.send({ type: 'fatal', error: String(err?.stack ?? err) })
    process.exit(1)
  })
})
