// Entry point of `pnpm bench`: runs the presence/cursor benchmark for every target and room
// size side by side in one invocation, prints the table, writes results JSON and the docs.
import { mkdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { waitForQuiet } from './machineLoad.mjs'
import { consoleTable, docsSection, ratios, targetCheck, updateDocs } from './report.mjs'
import { runTarget } from './runTarget.mjs'
import { syncline } from './synclineInfo.mjs'

const ALL_TARGETS = ['syncline', 'socketio', 'ywebsocket', 'hocuspocus']
const DEFAULT_SIZES = [50, 100]

const { values } = parseArgs({
  allowPositionals: true, // tolerate `pnpm bench -- --sizes 100`
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '1' },
    drain: { type: 'string', default: '1' },
    sizes: { type: 'string', default: DEFAULT_SIZES.join(',') },
    targets: { type: 'string', default: ALL_TARGETS.join(',') },
    rate: { type: 'string', default: '20' },
    procs: { type: 'string', default: '2' },
    tick: { type: 'string' },
    'socketio-client': { type: 'string', default: 'lean' },
    'wait-quiet': { type: 'string', default: '0' },
    retries: { type: 'string', default: '0' },
    docs: { type: 'boolean' },
    'no-docs': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
})

if (values.help) {
  console.log(`node presence/run.mjs [options]
  --duration S   measured seconds per run (default 10)
  --warmup S     warm-up seconds before measuring (default 1)
  --drain S      seconds to wait for stragglers after the window (default 1)
  --sizes LIST   room sizes, e.g. 50,100 (default)
  --targets LIST ${ALL_TARGETS.join(',')} (default: all)
  --rate HZ      cursor updates per user per second (default 20)
  --procs K      load-generator processes (default 2)
  --tick MS      Syncline presence tick; also the "superseded" tolerance (default: server's)
  --socketio-client lean|official
                 Socket.IO load clients: raw-ws protocol client (default) or socket.io-client
  --wait-quiet S before each run, wait up to S seconds for other work on the box to stop
  --retries K    repeat a run disturbed by other work on the box up to K times
  --docs         update docs/benchmarks.md even for a partial run
  --no-docs      never update docs/benchmarks.md`)
  process.exit(0)
}

const targets = values.targets.split(',').map((t) => t.trim())
for (const t of targets) {
  if (!ALL_TARGETS.includes(t)) throw new Error(`unknown target ${t} (${ALL_TARGETS.join(', ')})`)
}
const sizes = values.sizes.split(',').map(Number)
const info = await syncline()
const opts = {
  durationMs: Number(values.duration) * 1000,
  warmupMs: Number(values.warmup) * 1000,
  drainMs: Number(values.drain) * 1000,
  rate: Number(values.rate),
  procs: Number(values.procs),
  tickMs: values.tick !== undefined ? Number(values.tick) : info.tickMs,
  socketioClient: values['socketio-client'],
}

const machine = {
  cpus: os.availableParallelism(),
  cpuModel: os.cpus()[0]?.model?.trim() ?? 'unknown',
  memGB: os.totalmem() / 1024 ** 3,
  os: `${os.type()} ${os.release()} ${os.arch()}`,
  node: process.version,
}
console.log(
  `presence bench: sizes ${sizes.join(',')}, targets ${targets.join(',')}, ${opts.rate} Hz, ` +
    `${opts.durationMs / 1000} s after ${opts.warmupMs / 1000} s warm-up, ${opts.procs} load processes, ` +
    `tick ${opts.tickMs} ms (${info.tickSource}); ${machine.cpus} CPUs, Node ${machine.node}`,
)

const waitQuietMs = Number(values['wait-quiet']) * 1000
const retries = Number(values.retries)
const BUSY_CORES = 0.35 // "other" CPU above this means something else competed with the run

async function measureOnce(target, n) {
  if (waitQuietMs > 0) {
    const busy = await waitForQuiet(0.25, waitQuietMs, machine.cpus)
    if (busy !== null && busy >= 0.25) console.log(`  (box still busy: ${busy.toFixed(2)} cores)`)
  }
  const started = Date.now()
  process.stdout.write(`  ${target} N=${n} … `)
  try {
    if (target === 'syncline' && !info.available) throw new Error(info.reason)
    const result = await runTarget(target, n, opts)
    const other = result.machine?.otherCores
    console.log(
      `done in ${((Date.now() - started) / 1000).toFixed(1)} s` +
        (other === undefined ? '' : `; other CPU use on the box ${other.toFixed(2)} cores`) +
        (other > BUSY_CORES ? ' (WARNING: something else competed for the CPU)' : ''),
    )
    return result
  } catch (err) {
    console.log(`FAILED: ${err.message.split('\n')[0]}`)
    return { target, n, error: err.message.split('\n')[0] }
  }
}

const disturbance = (r) => (r.error ? Number.POSITIVE_INFINITY : (r.machine?.otherCores ?? 0))
const results = []
for (const n of sizes) {
  for (const target of targets) {
    // A run disturbed by other work on the box is repeated (--retries); the least disturbed counts.
    let best = await measureOnce(target, n)
    for (let i = 0; i < retries && disturbance(best) > BUSY_CORES; i++) {
      if (best.error && target === 'syncline' && !info.available) break
      const again = await measureOnce(target, n)
      if (disturbance(again) < disturbance(best)) best = again
    }
    results.push(best)
  }
}

console.log(`\n${consoleTable(results)}\n`)
for (const r of ratios(results)) {
  console.log(
    `N=${r.n} Syncline vs ${r.peer}: ${r.efficiency.toFixed(2)}× deliveries per server CPU s, ` +
      `p99 ${r.p99.map((v) => v?.toFixed(2)).join(' vs ')} ms, lost % ${r.lostPct.map((v) => v?.toFixed(3)).join(' vs ')}`,
  )
}
const check = targetCheck(results, opts.tickMs)
if (check) console.log('target check:', JSON.stringify(check))

const date = new Date().toISOString().slice(0, 10)
const file = `presence-${date}.json`
const resultsDir = fileURLToPath(new URL('../results/', import.meta.url))
mkdirSync(resultsDir, { recursive: true })
const command = ['pnpm bench', ...process.argv.slice(2)].join(' ')
const doc = {
  date,
  file,
  command,
  machine,
  config: { ...opts, sizes, targets, waitQuietMs, retries },
  syncline: info,
  results,
  check,
}
writeFileSync(`${resultsDir}${file}`, `${JSON.stringify(doc, null, 2)}\n`)
console.log(`results: bench/results/${file}`)

const full =
  targets.length === ALL_TARGETS.length &&
  DEFAULT_SIZES.every((s) => sizes.includes(s)) &&
  opts.durationMs >= 10_000
if (!values['no-docs'] && (values.docs || full)) {
  const docsPath = fileURLToPath(new URL('../../docs/benchmarks.md', import.meta.url))
  updateDocs(docsPath, docsSection(doc))
  console.log('docs: docs/benchmarks.md updated')
}
