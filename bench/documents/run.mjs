// Entry point of `pnpm --filter @syncline/bench bench:documents`: initial sync of a large
// document and update fan-out with many editors, Syncline side by side with the y-websocket
// server and Hocuspocus in one invocation; prints tables, writes results JSON and the docs.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { machineBusy, waitForQuiet } from '../presence/machineLoad.mjs'
import { syncline } from '../presence/synclineInfo.mjs'
import { runFanout } from './fanout.mjs'
import { runInitialSync } from './initialSync.mjs'
import {
  checkText,
  docsSection,
  fanoutTable,
  ratios,
  ratioTable,
  syncStats,
  syncTable,
  targetCheck,
  updateDocs,
} from './report.mjs'
import { generateTrace } from './trace.mjs'

const ALL_TARGETS = ['syncline', 'ywebsocket', 'hocuspocus', 'floor', 'syncline16']
/** References that only relay: no initial-sync figures. */
const FANOUT_ONLY = new Set(['floor', 'syncline16'])
const DEFAULTS = { editors: 50, duration: 10, rate: 5, reps: 10, rounds: 5 }

const { values } = parseArgs({
  allowPositionals: true, // tolerate `pnpm bench:documents -- --editors 20`
  options: {
    targets: { type: 'string', default: ALL_TARGETS.join(',') },
    only: { type: 'string' },
    editors: { type: 'string', default: String(DEFAULTS.editors) },
    duration: { type: 'string', default: String(DEFAULTS.duration) },
    rate: { type: 'string', default: String(DEFAULTS.rate) },
    warmup: { type: 'string', default: '30' },
    drain: { type: 'string', default: '2' },
    procs: { type: 'string', default: '2' },
    reps: { type: 'string', default: String(DEFAULTS.reps) },
    rounds: { type: 'string', default: String(DEFAULTS.rounds) },
    'flush-ms': { type: 'string' },
    edits: { type: 'string', default: '250000' },
    length: { type: 'string', default: '100000' },
    seed: { type: 'string', default: '42' },
    'cpu-prof': { type: 'boolean' },
    'wait-quiet': { type: 'string', default: '0' },
    docs: { type: 'boolean' },
    render: { type: 'string' },
    'no-docs': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
})

if (values.help) {
  console.log(`node documents/run.mjs [options]
  --targets LIST  ${ALL_TARGETS.join(',')} (default: all; floor is a bare ws relay and
                  syncline16 Syncline with documentFlushMs 16, both fan-out only)
  --only JOB      sync | fanout (default: both)
  --editors N     editors typing in the fan-out room (default ${DEFAULTS.editors})
  --duration S    measured fan-out seconds (default ${DEFAULTS.duration})
  --rate HZ       characters typed per editor per second (default ${DEFAULTS.rate})
  --warmup S      typing before the measured window, so every server's JIT is warm (default 30)
  --drain S       wait after typing stops, before the convergence check (default 2)
  --procs K       editor load processes (default 2)
  --reps N        initial-sync samples per target: N cold, 3·N warm (default ${DEFAULTS.reps})
  --rounds N      fan-out runs per target, interleaved; the median is reported (default ${DEFAULTS.rounds})
  --flush-ms MS   Syncline's documentFlushMs (default: the server's default)
  --edits N       edits in the synthetic trace (default 250000)
  --length N      characters the trace ends near (default 100000)
  --seed N        trace seed (default 42)
  --cpu-prof      write a V8 CPU profile of every server process to bench/results/profiles/
  --wait-quiet S  before each target, wait up to S seconds for other work on the box to stop
  --docs          update docs/benchmarks.md even for a partial run
  --render FILE   only rewrite the docs section from a results JSON (e.g. after editing
                  documents/analysis.md), without measuring
  --no-docs       never update docs/benchmarks.md`)
  process.exit(0)
}

const analysisPath = fileURLToPath(new URL('./analysis.md', import.meta.url))
const docsPath = fileURLToPath(new URL('../../docs/benchmarks.md', import.meta.url))
/** Writes the "Documents" section from a results document plus the hand-written analysis. */
function writeDocs(doc) {
  const analysis = existsSync(analysisPath)
    ? readFileSync(analysisPath, 'utf8').replace(/^<!--[\s\S]*?-->\s*/, '')
    : undefined
  updateDocs(docsPath, docsSection(doc, analysis))
  console.log('docs: docs/benchmarks.md updated (section "Documents")')
}
if (values.render) {
  writeDocs(JSON.parse(readFileSync(values.render, 'utf8')))
  process.exit(0)
}

const started = Date.now()
// Read by targets/syncline.mjs in the server process (children inherit the environment).
if (values['flush-ms'] !== undefined) process.env.SYNCLINE_BENCH_FLUSH_MS = values['flush-ms']
const targets = values.targets.split(',').map((t) => t.trim())
for (const t of targets) {
  if (!ALL_TARGETS.includes(t)) throw new Error(`unknown target ${t} (${ALL_TARGETS.join(', ')})`)
}
if (values.only && !['sync', 'fanout'].includes(values.only)) {
  throw new Error('--only takes sync or fanout')
}
const resultsDir = fileURLToPath(new URL('../results/', import.meta.url))
const profileDir = `${resultsDir}profiles`
const opts = {
  editors: Number(values.editors),
  durationMs: Number(values.duration) * 1000,
  rate: Number(values.rate),
  warmupMs: Number(values.warmup) * 1000,
  drainMs: Number(values.drain) * 1000,
  procs: Number(values.procs),
  reps: Number(values.reps),
  rounds: Number(values.rounds),
  flushMs: values['flush-ms'] === undefined ? null : Number(values['flush-ms']),
  cpuProf: Boolean(values['cpu-prof']),
  // One directory per server process: worker threads (the CPU sampler, module hooks) write
  // profiles of their own next to the main thread's.
  cpuProfArgs: (name) => ['--cpu-prof', `--cpu-prof-dir=${profileDir}/${name}-${Date.now()}`],
}
const machine = {
  cpus: os.availableParallelism(),
  cpuModel: os.cpus()[0]?.model?.trim() ?? 'unknown',
  memGB: os.totalmem() / 1024 ** 3,
  os: `${os.type()} ${os.release()} ${os.arch()}`,
  node: process.version,
}
const info = await syncline()
const waitQuietMs = Number(values['wait-quiet']) * 1000
async function quiet() {
  if (waitQuietMs <= 0) return
  const busy = await waitForQuiet(0.25, waitQuietMs, machine.cpus)
  if (busy !== null && busy >= 0.25) console.log(`  (box still busy: ${busy.toFixed(2)} cores)`)
}
/**
 * The round with the median server CPU per delivery, carrying every round's figures; a failed
 * round is reported only when every round failed.
 */
function medianRound(rs) {
  const ok = rs.filter((r) => !r.error)
  if (ok.length === 0) return rs[0]
  const sorted = [...ok].sort((a, b) => a.server.cpuSecondsPer100k - b.server.cpuSecondsPer100k)
  const median = sorted[Math.floor((sorted.length - 1) / 2)]
  return {
    ...median,
    rounds: rs.map((r) =>
      r.error
        ? { error: r.error }
        : {
            cpuSecondsPer100k: r.server.cpuSecondsPer100k,
            deliveriesPerCpuSecond: r.server.deliveriesPerCpuSecond,
            p50: r.latencyMs.p50,
            p99: r.latencyMs.p99,
          },
    ),
  }
}
const fail = (target, err) => {
  console.log(`FAILED: ${err.message.split('\n')[0]}`)
  return { target, error: err.message.split('\n')[0] }
}

console.log(
  `documents bench: targets ${targets.join(',')}; ${machine.cpus} CPUs, Node ${machine.node}` +
    (info.available ? '' : `\n  Syncline unavailable: ${info.reason}`),
)

// The document: generated once, handed to every server and client process as a file.
const trace = generateTrace({
  edits: Number(values.edits),
  targetLength: Number(values.length),
  seed: Number(values.seed),
})
const seedFile = `${os.tmpdir()}/syncline-bench-doc-${trace.info.sha256}.bin`
if (!existsSync(seedFile)) writeFileSync(seedFile, trace.update)
console.log(
  `trace: ${trace.info.edits} edits (${trace.info.inserts} inserts, ${trace.info.deletes} deletes) → ` +
    `${trace.info.length} chars, ${trace.info.encodedBytes} bytes encoded (v2 ${trace.info.encodedV2Bytes}), ` +
    `generated in ${(trace.info.generateMs / 1000).toFixed(1)} s`,
)
if (opts.cpuProf) mkdirSync(profileDir, { recursive: true })

const sync = []
if (values.only !== 'fanout') {
  console.log(`\n1. initial sync: ${opts.reps} cold + ${3 * opts.reps} warm joins per target`)
  // The floor cannot answer from stored state, and syncline16 syncs like Syncline: fan-out only.
  for (const target of targets.filter((t) => !FANOUT_ONLY.has(t))) {
    await quiet()
    process.stdout.write(`  ${target} … `)
    const t = Date.now()
    const busy = machineBusy()
    try {
      if (target === 'syncline' && !info.available) throw new Error(info.reason)
      const r = await runInitialSync(target, { ...opts, seedFile })
      const share = busy.stop()
      r.stats = { cold: syncStats(r.cold), warm: syncStats(r.warm) }
      // Whole-box busy cores while the samples ran, this benchmark's processes included.
      r.machine = share === null ? null : { busyCores: share * machine.cpus }
      console.log(
        `done in ${((Date.now() - t) / 1000).toFixed(1)} s: cold median ${r.stats.cold.synced.median.toFixed(1)} ms, warm median ${r.stats.warm.synced.median.toFixed(1)} ms`,
      )
      sync.push(r)
    } catch (err) {
      sync.push(fail(target, err))
    }
  }
  console.log(`\n${syncTable(sync)}`)
}

const fanout = []
if (values.only !== 'sync') {
  console.log(
    `\n2. fan-out: ${opts.editors} editors × ${opts.rate} chars/s, ${opts.durationMs / 1000} s measured, ` +
      `${opts.rounds} round${opts.rounds === 1 ? '' : 's'}`,
  )
  // Rounds interleave the targets (in a rotated order each round) so that a slow patch of the
  // box hits every target alike; each target reports its median round.
  const runs = new Map(targets.map((target) => [target, []]))
  for (let round = 0; round < opts.rounds; round++) {
    const order = targets.map((_, i) => targets[(i + round) % targets.length])
    for (const target of order) {
      await quiet()
      process.stdout.write(`  ${opts.rounds > 1 ? `round ${round + 1}: ` : ''}${target} … `)
      const t = Date.now()
      try {
        if (target === 'syncline' && !info.available) throw new Error(info.reason)
        const r = await runFanout(target, opts)
        const other = r.machine?.otherCores
        console.log(
          `done in ${((Date.now() - t) / 1000).toFixed(1)} s: ${r.server.cpuSecondsPer100k.toFixed(3)} CPU s /100k deliveries` +
            (other === undefined ? '' : `; other CPU use on the box ${other.toFixed(2)} cores`) +
            (other > 0.35 ? ' (WARNING: something else competed for the CPU)' : ''),
        )
        runs.get(target).push(r)
      } catch (err) {
        runs.get(target).push(fail(target, err))
      }
    }
  }
  for (const target of targets) fanout.push(medianRound(runs.get(target)))
  console.log(`\n${fanoutTable(fanout)}`)
}

console.log(`\n${ratioTable(ratios(sync, fanout))}\n`)
const check = targetCheck(sync, fanout)
for (const line of checkText(check)) console.log(line)

const full =
  targets.length === ALL_TARGETS.length &&
  !values.only &&
  opts.editors === DEFAULTS.editors &&
  opts.durationMs >= DEFAULTS.duration * 1000 &&
  opts.reps >= DEFAULTS.reps &&
  opts.rounds >= DEFAULTS.rounds &&
  opts.flushMs === null
const date = new Date().toISOString().slice(0, 10)
// A partial run never overwrites the full run's results that the docs point to.
const file = `documents-${date}${full ? '' : '-partial'}.json`
mkdirSync(resultsDir, { recursive: true })
const command = ['pnpm --filter @syncline/bench bench:documents', ...process.argv.slice(2)].join(
  ' ',
)
const { cpuProfArgs, ...config } = opts
const doc = {
  date,
  file,
  command,
  machine,
  config: { ...config, targets, only: values.only ?? null, waitQuietMs },
  trace: trace.info,
  syncline: info,
  sync,
  fanout,
  check,
  elapsedSeconds: (Date.now() - started) / 1000,
}
writeFileSync(`${resultsDir}${file}`, `${JSON.stringify(doc, null, 2)}\n`)
console.log(`\nresults: bench/results/${file} (${doc.elapsedSeconds.toFixed(0)} s)`)
if (opts.cpuProf)
  console.log(`profiles: bench/results/profiles/ (node documents/profileSummary.mjs FILE)`)

if (!values['no-docs'] && (values.docs || full)) writeDocs(doc)
