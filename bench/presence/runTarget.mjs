// One measurement: one target, one room size. Forks the server process and the load
// processes, drives warm-up → measured window → drain, and turns their reports into metrics.
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { Child } from './child.mjs'
import { now, sleep, sleepUntil } from './clock.mjs'
import { machineBusy } from './machineLoad.mjs'
import { Histogram } from './stats.mjs'

const here = (file) => fileURLToPath(new URL(file, import.meta.url))
const HOST = '127.0.0.1'

/**
 * Splits users over the load processes: user 0 alone in a probe process (its latency is what
 * one client sees without the load generator's own queueing: a load process handles dozens of
 * sockets one after the other), users 1..n-1 round-robin over `procs` processes.
 */
function shares(n, procs) {
  const out = Array.from({ length: procs }, () => [])
  for (let u = 1; u < n; u++) out[(u - 1) % procs].push(u)
  return [
    { users: [0], probe: true },
    ...out.filter((s) => s.length > 0).map((users) => ({ users })),
  ]
}

export async function runTarget(target, n, opts) {
  const { durationMs, warmupMs, drainMs, rate, tickMs, procs } = opts
  const period = 1000 / rate
  const hardTimeoutMs = warmupMs + durationMs + drainMs + 40_000
  const children = []
  const phases = {}
  let phaseStart = now()
  const phase = (name) => {
    const t = now()
    phases[name] = Math.round(t - phaseStart)
    phaseStart = t
  }
  const hardKill = setTimeout(() => {
    for (const c of children) c.kill()
  }, hardTimeoutMs)
  try {
    const server = new Child(here('./serverProcess.mjs'), {
      name: `${target} server`,
      execArgv: ['--expose-gc'],
      sidePipe: true,
    })
    children.push(server)
    server.send({ type: 'init', target, host: HOST, tickMs, hardTimeoutMs })
    const ready = await server.waitFor('ready', 20_000)
    phase('serverStart')

    const room = `bench-${target}-${n}`
    const maxSeq = Math.ceil(((warmupMs + durationMs) / period) * 1.05) + 10
    const loads = shares(n, procs).map(({ users, probe }, i) => {
      const name = probe ? `${target} probe` : `${target} load ${i}`
      const c = new Child(here('./loadClient.mjs'), { name })
      children.push(c)
      c.send({
        type: 'init',
        target,
        host: HOST,
        port: ready.port,
        room,
        users,
        probe,
        n,
        period,
        maxSeq,
        hardTimeoutMs,
        variant: target === 'socketio' ? opts.socketioClient : undefined,
      })
      return c
    })
    const joined = await Promise.all(loads.map((c) => c.waitFor('joined', 30_000)))
    const failures = joined.flatMap((j) => j.failures)
    if (failures.length > 0) throw new Error(`join failed: ${failures.slice(0, 3).join('; ')}`)
    phase('join')

    await sleep(300)
    server.send({ type: 'mem', label: 'joined' })
    const memJoined = await server.waitFor('mem', 10_000)

    const t0 = now() + 300
    const windowStart = t0 + warmupMs
    const windowEnd = windowStart + durationMs
    const drainEnd = windowEnd + drainMs
    server.send({ type: 'measure', windowStart, windowEnd })
    for (const c of loads) c.send({ type: 'start', t0, windowStart, windowEnd, drainEnd })
    const wait = drainEnd - now() + 15_000
    const busy = sleepUntil(windowStart).then(async () => {
      const m = machineBusy()
      await sleepUntil(windowEnd)
      return m.stop()
    })
    const [machineBusyShare, cpu, ...reports] = await Promise.all([
      busy,
      server.waitFor('cpu', wait),
      ...loads.map((c) => c.waitFor('report', wait)),
    ])
    phase('run')
    // A saturated server answers on its main loop seconds late, if at all: these are best effort.
    const measured = await server.maybe('measured', 3000)
    server.send({ type: 'mem', label: 'end' })
    const memEnd = (await server.maybe('mem', 3000)) ?? { rss: cpu.rss, heapUsed: null }

    const sendTimes = Object.assign({}, ...reports.map((r) => r.sendTimes))
    for (const c of loads) c.send({ type: 'judge', sendTimes, toleranceMs: tickMs })
    phase('serverReports')
    const judged = await Promise.all(loads.map((c) => c.waitFor('judged', 30_000)))
    phase('judge')
    await Promise.all(children.map((c) => c.stop()))
    phase('stop')
    return summarize({
      ...{ target, n, opts, ready, memJoined, memEnd, cpu, measured, reports, judged },
      machineBusyShare,
      phases,
    })
  } finally {
    clearTimeout(hardKill)
    for (const c of children) c.kill()
  }
}

function summarize(run) {
  const { target, n, opts, ready, memJoined, memEnd, cpu, measured, reports, judged } = run
  const seconds = opts.durationMs / 1000
  const sum = (key) => reports.reduce((a, r) => a + r[key], 0)
  const latency = reports.reduce((h, r) => h.merge(Histogram.fromJSON(r.latency)), new Histogram())
  const probe = Histogram.fromJSON(reports.find((r) => r.probe).latency)
  const sendLag = reports.reduce((h, r) => h.merge(Histogram.fromJSON(r.sendLag)), new Histogram())
  const loss = { expected: 0, delivered: 0, superseded: 0, lost: 0, lostWithinTwoTicks: 0 }
  for (const j of judged) for (const k of Object.keys(loss)) loss[k] += j.counts[k]
  const notes = {}
  for (const r of reports) {
    for (const [k, v] of Object.entries(r.notes)) notes[k] = (notes[k] ?? 0) + v
  }

  const deliveriesPerSec = sum('deliveriesInWindow') / seconds
  const serverCpuShare = cpu.cpuSeconds / cpu.wallSeconds
  const sentPerSec = sum('sentInWindow') / seconds
  const MB = 1024 * 1024
  return {
    target,
    n,
    askedSendsPerSec: n * opts.rate,
    sentPerSec,
    sentPct: (100 * sentPerSec) / (n * opts.rate),
    skippedSlots: sum('skippedSlots'),
    sendLagP99Ms: sendLag.percentile(0.99),
    askedDeliveriesPerSec: n * (n - 1) * opts.rate,
    deliveriesPerSec,
    framesPerSocketPerSec: sum('framesInWindow') / n / seconds,
    echoesPerSec: sum('echoesInWindow') / seconds,
    latencyMs: {
      p50: latency.percentile(0.5),
      p99: latency.percentile(0.99),
      max: latency.max,
      mean: latency.mean(),
      samples: latency.count,
    },
    probeLatencyMs: { p50: probe.percentile(0.5), p99: probe.percentile(0.99), max: probe.max },
    loss: {
      ...loss,
      lostPct: loss.expected ? (100 * loss.lost) / loss.expected : null,
      supersededPct: loss.expected ? (100 * loss.superseded) / loss.expected : null,
    },
    server: {
      cpuShare: serverCpuShare,
      cpuSecondsPer100k: deliveriesPerSec > 0 ? (serverCpuShare / deliveriesPerSec) * 1e5 : null,
      deliveriesPerCpuSecond: serverCpuShare > 0 ? deliveriesPerSec / serverCpuShare : null,
      // Main-loop figures; null when the server's loop was too busy to report them in time.
      elu: measured?.elu ?? null,
      loopDelayP99Ms: measured?.loopDelayP99Ms ?? null,
      timerLateMs: measured?.lateStartMs ?? null,
      rssMB: {
        started: ready.afterStart.rss / MB,
        joined: memJoined.rss / MB,
        end: memEnd.rss / MB,
      },
      heapMB: {
        started: ready.afterStart.heapUsed / MB,
        joined: memJoined.heapUsed / MB,
        end: memEnd.heapUsed === null ? null : memEnd.heapUsed / MB,
      },
      rssPerConnectionKB: (memJoined.rss - ready.afterStart.rss) / n / 1024,
      heapPerConnectionKB: (memJoined.heapUsed - ready.afterStart.heapUsed) / n / 1024,
    },
    machine: machineShares(run.machineBusyShare, serverCpuShare, reports),
    load: reports.map((r) => ({
      probe: r.probe,
      users: r.users,
      cpuShare: r.cpuSeconds / r.wallSeconds,
      elu: r.elu,
    })),
    notes,
    phasesMs: run.phases,
  }
}

/**
 * Cores busy during the window (all CPUs) and how much of that was neither the server nor the
 * load processes: other work on the box that competed with this measurement.
 */
function machineShares(busyShare, serverCpuShare, reports) {
  if (busyShare === null) return null
  const cores = os.availableParallelism()
  const busyCores = busyShare * cores
  const benchCores = serverCpuShare + reports.reduce((a, r) => a + r.cpuSeconds / r.wallSeconds, 0)
  return { busyCores, benchCores, otherCores: Math.max(0, busyCores - benchCores) }
}
