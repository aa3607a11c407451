// Measurement 2: update fan-out with N editors typing into one shared Y.Text. Forks the server
// and the load processes, drives warm-up → measured window → drain, then checks convergence.
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { Child } from '../presence/child.mjs'
import { now, sleepUntil } from '../presence/clock.mjs'
import { machineBusy } from '../presence/machineLoad.mjs'
import { Histogram } from '../presence/stats.mjs'

const here = (file) => fileURLToPath(new URL(file, import.meta.url))
const HOST = '127.0.0.1'

export async function runFanout(target, opts) {
  const { editors: n, rate, durationMs, warmupMs, drainMs, procs } = opts
  const hardTimeoutMs = warmupMs + durationMs + drainMs + 60_000
  const maxClock = Math.ceil(((warmupMs + durationMs) / 1000) * rate) + 5
  const children = []
  const hardKill = setTimeout(() => {
    for (const c of children) c.kill()
  }, hardTimeoutMs)
  try {
    const execArgv = ['--expose-gc', ...(opts.cpuProf ? opts.cpuProfArgs(`${target}-fanout`) : [])]
    const server = new Child(here('./serverProcess.mjs'), {
      name: `${target} server`,
      execArgv,
      sidePipe: true,
    })
    children.push(server)
    server.send({ type: 'init', target, host: HOST, hardTimeoutMs })
    const ready = await server.waitFor('ready', 20_000)

    const room = `typing-${target}`
    const shares = Array.from({ length: procs }, () => [])
    for (let u = 0; u < n; u++) shares[u % procs].push(u)
    const loads = shares
      .filter((users) => users.length > 0)
      .map((users, i) => {
        const c = new Child(here('./editorLoad.mjs'), { name: `${target} load ${i}` })
        children.push(c)
        c.send({
          type: 'init',
          ...{ target, host: HOST, port: ready.port, room, users, n, rate, maxClock },
          hardTimeoutMs,
        })
        return c
      })
    const joined = await Promise.all(loads.map((c) => c.waitFor('joined', 30_000)))
    const failures = joined.flatMap((j) => j.failures)
    if (failures.length > 0) throw new Error(`join failed: ${failures.slice(0, 3).join('; ')}`)

    const t0 = now() + 300
    const windowStart = t0 + warmupMs
    const windowEnd = windowStart + durationMs
    const drainEnd = windowEnd + drainMs
    server.send({ type: 'measure', windowStart, windowEnd })
    for (const c of loads) {
      c.send({ type: 'start', t0, windowStart, windowEnd, typingEnd: windowEnd, drainEnd })
    }
    const busy = sleepUntil(windowStart).then(async () => {
      const m = machineBusy()
      await sleepUntil(windowEnd)
      return m.stop()
    })
    const wait = drainEnd - now() + 15_000
    const [busyShare, cpu, ...reports] = await Promise.all([
      busy,
      server.waitFor('cpu', wait),
      ...loads.map((c) => c.waitFor('report', wait)),
    ])
    const measured = await server.maybe('measured', 3000)
    server.send({ type: 'mem' })
    const mem = await server.maybe('mem', 3000)
    const sendTimes = Object.assign({}, ...reports.map((r) => r.sendTimes))
    for (const c of loads) c.send({ type: 'judge', sendTimes })
    const judged = await Promise.all(loads.map((c) => c.waitFor('judged', 30_000)))
    await Promise.all(children.map((c) => c.stop()))
    return summarize({ target, opts, cpu, measured, mem, reports, judged, busyShare })
  } finally {
    clearTimeout(hardKill)
    for (const c of children) c.kill()
  }
}

function summarize({ target, opts, cpu, measured, mem, reports, judged, busyShare }) {
  const seconds = opts.durationMs / 1000
  const n = opts.editors
  const sum = (key) => reports.reduce((a, r) => a + r.counts[key], 0)
  const latency = judged.reduce((h, j) => h.merge(Histogram.fromJSON(j.latency)), new Histogram())
  const sendLag = reports.reduce((h, r) => h.merge(Histogram.fromJSON(r.sendLag)), new Histogram())
  const hashes = new Set(reports.flatMap((r) => r.hashes))
  const lengths = reports.flatMap((r) => r.lengths)
  const sentTotal = sum('sentTotal')
  const converged = hashes.size === 1 && lengths.every((l) => l === sentTotal)
  const deliveriesPerSec = sum('deliveriesInWindow') / seconds
  const cpuShare = cpu.cpuSeconds / cpu.wallSeconds
  const loadCores = reports.reduce((a, r) => a + r.cpuSeconds, 0) / seconds
  const cores = os.availableParallelism()
  return {
    target,
    editors: n,
    rate: opts.rate,
    askedEditsPerSec: n * opts.rate,
    sentPerSec: sum('sentInWindow') / seconds,
    askedDeliveriesPerSec: n * (n - 1) * opts.rate,
    deliveriesPerSec,
    messagesPerSocketPerSec: sum('messagesInWindow') / n / seconds,
    echoesPerSec: sum('echoesInWindow') / seconds,
    acksPerSec: sum('acksInWindow') / seconds,
    latencyMs: {
      p50: latency.percentile(0.5),
      p99: latency.percentile(0.99),
      max: latency.max,
      samples: latency.count,
    },
    sendLagP99Ms: sendLag.percentile(0.99),
    missing: judged.reduce((a, j) => a + j.missing, 0),
    expected: judged.reduce((a, j) => a + j.expected, 0),
    duplicates: sum('duplicates'),
    converged,
    distinctTexts: hashes.size,
    finalLength: lengths[0],
    sentTotal,
    server: {
      cpuSeconds: cpu.cpuSeconds,
      userSeconds: cpu.userSeconds,
      systemSeconds: cpu.systemSeconds,
      cpuShare,
      cpuSecondsPer100k: deliveriesPerSec > 0 ? (cpuShare / deliveriesPerSec) * 1e5 : null,
      deliveriesPerCpuSecond: cpuShare > 0 ? deliveriesPerSec / cpuShare : null,
      elu: measured?.elu ?? null,
      loopDelayP99Ms: measured?.loopDelayP99Ms ?? null,
      rssMB: mem ? mem.rss / 1024 / 1024 : cpu.rss / 1024 / 1024,
    },
    load: reports.map((r) => ({ cpuShare: r.cpuSeconds / seconds, elu: r.elu })),
    machine:
      busyShare === null
        ? null
        : {
            busyCores: busyShare * cores,
            otherCores: Math.max(0, busyShare * cores - cpuShare - loadCores),
          },
  }
}
