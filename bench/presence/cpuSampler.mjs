// Worker thread inside the server process: samples the whole process's CPU (process.cpuUsage
// is process-wide, also from a worker) at the window's exact edges, even while a saturated
// server keeps its main event loop busy for seconds, and writes the result to a side pipe.
import { writeSync } from 'node:fs'
import { workerData } from 'node:worker_threads'
import { now, sleepUntil } from './clock.mjs'

const { windowStart, windowEnd, fd } = workerData
await sleepUntil(windowStart)
const cpu0 = process.cpuUsage()
const wall0 = now()
await sleepUntil(windowEnd)
const cpu = process.cpuUsage(cpu0)
const wall = now() - wall0
const line = {
  type: 'cpu',
  cpuSeconds: (cpu.user + cpu.system) / 1e6,
  userSeconds: cpu.user / 1e6,
  systemSeconds: cpu.system / 1e6,
  wallSeconds: wall / 1000,
  rss: process.memoryUsage.rss(),
}
writeSync(fd, `${JSON.stringify(line)}\n`)
