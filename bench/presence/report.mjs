// Turns run results into the console table, the ratios versus each peer, the issue's target check
// and the "Presence and cursors" section of docs/benchmarks.md.
import { readFileSync, writeFileSync } from 'node:fs'

const LABELS = {
  syncline: 'Syncline',
  socketio: 'Socket.IO 4.8',
  ywebsocket: 'y-websocket server 0.1.5',
  hocuspocus: 'Hocuspocus 4.7',
}
export const label = (t) => LABELS[t] ?? t

const f = (v, digits = 1) =>
  v === null || v === undefined || Number.isNaN(v) ? '—' : v.toFixed(digits)
const k = (v) => (v === null || v === undefined ? '—' : `${(v / 1000).toFixed(1)} k`)
const ms = (v) => (v === null || v === undefined ? '—' : v < 10 ? v.toFixed(2) : v.toFixed(0))
const pct = (v) =>
  v === null || v === undefined ? '—' : v < 0.01 && v > 0 ? '<0.01' : v.toFixed(2)

const COLUMNS = [
  ['target', (r) => label(r.target)],
  ['N', (r) => String(r.n)],
  ['deliveries/s (asked)', (r) => `${k(r.deliveriesPerSec)} (${k(r.askedDeliveriesPerSec)})`],
  ['frames/socket/s', (r) => f(r.framesPerSocketPerSec, 0)],
  ['p50 ms', (r) => ms(r.latencyMs.p50)],
  ['p99 ms', (r) => ms(r.latencyMs.p99)],
  ['probe p50/p99 ms', (r) => `${ms(r.probeLatencyMs?.p50)} / ${ms(r.probeLatencyMs?.p99)}`],
  ['lost %', (r) => pct(r.loss.lostPct)],
  ['superseded %', (r) => pct(r.loss.supersededPct)],
  ['server CPU s /100k', (r) => f(r.server.cpuSecondsPer100k, 3)],
  ['deliveries / CPU s', (r) => k(r.server.deliveriesPerCpuSecond)],
  ['server CPU %', (r) => f(100 * r.server.cpuShare, 0)],
  ['RSS MB joined→end', (r) => `${f(r.server.rssMB.joined)}→${f(r.server.rssMB.end)}`],
  ['heap MB joined→end', (r) => `${f(r.server.heapMB.joined)}→${f(r.server.heapMB.end)}`],
  ['load sent %', (r) => f(r.sentPct, 1)],
]

function rows(results) {
  return results.map((r) =>
    r.error
      ? [label(r.target), String(r.n), `error: ${r.error}`]
      : COLUMNS.map(([, get]) => get(r)),
  )
}

/** Plain-text table for the console. */
export function consoleTable(results) {
  const head = COLUMNS.map(([h]) => h)
  const body = rows(results)
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)))
  const line = (cells) => cells.map((c, i) => (c ?? '').padEnd(widths[i])).join('  ')
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n')
}

function markdownTable(head, body) {
  return [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...body.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n')
}

/** Syncline versus each peer at each size: efficiency ratio, p99 and lost % side by side. */
export function ratios(results) {
  const out = []
  for (const s of results.filter((r) => r.target === 'syncline' && !r.error)) {
    for (const p of results.filter((r) => r.n === s.n && r.target !== 'syncline' && !r.error)) {
      out.push({
        n: s.n,
        peer: p.target,
        efficiency: s.server.deliveriesPerCpuSecond / p.server.deliveriesPerCpuSecond,
        throughput: s.deliveriesPerSec / p.deliveriesPerSec,
        p99: [s.latencyMs.p99, p.latencyMs.p99],
        lostPct: [s.loss.lostPct, p.loss.lostPct],
      })
    }
  }
  return out
}

/** The issue's acceptance check at the largest size measured with Socket.IO alongside. */
export function targetCheck(results, tickMs) {
  const s = results.filter((r) => r.target === 'syncline' && !r.error).sort((a, b) => b.n - a.n)[0]
  if (!s) return null
  const io = results.find((r) => r.target === 'socketio' && r.n === s.n && !r.error)
  const efficiency = io ? s.server.deliveriesPerCpuSecond / io.server.deliveriesPerCpuSecond : null
  return {
    n: s.n,
    efficiencyVsSocketIo: efficiency,
    efficiencyOk: efficiency === null ? null : efficiency >= 5,
    lost: s.loss.lost,
    lostOk: s.loss.lost === 0,
    lostWithinTwoTicks: s.loss.lostWithinTwoTicks,
    p99Ms: s.latencyMs.p99,
    p99LimitMs: tickMs + 5,
    p99Ok: s.latencyMs.p99 !== null && s.latencyMs.p99 <= tickMs + 5,
    probeP99Ms: s.probeLatencyMs?.p99 ?? null,
    probeP99Ok: s.probeLatencyMs?.p99 != null && s.probeLatencyMs.p99 <= tickMs + 5,
  }
}

export function ratioTable(results) {
  const body = ratios(results).map((r) => [
    String(r.n),
    label(r.peer),
    `${f(r.efficiency, 2)}×`,
    `${f(r.throughput, 2)}×`,
    `${ms(r.p99[0])} vs ${ms(r.p99[1])}`,
    `${pct(r.lostPct[0])} vs ${pct(r.lostPct[1])}`,
  ])
  return markdownTable(
    [
      'N',
      'peer',
      'deliveries per server CPU s (Syncline ÷ peer)',
      'deliveries/s (Syncline ÷ peer)',
      'p99 ms (Syncline vs peer)',
      'lost % (Syncline vs peer)',
    ],
    body,
  )
}

/** Markdown for docs/benchmarks.md. */
export function docsSection(doc) {
  const { results, machine, config, check } = doc
  const head = COLUMNS.map(([h]) => h)
  const loadNotes = results
    .filter((r) => !r.error)
    .map(
      (r) =>
        `${label(r.target)} N=${r.n}: sent ${f(r.sentPct, 1)} % of asked (send lag p99 ${ms(r.sendLagP99Ms)} ms), load processes CPU ${r.load
          .filter((l) => !l.probe)
          .map((l) => `${f(100 * l.cpuShare, 0)} %`)
          .join(
            ' + ',
          )}, server event-loop delay p99 ${r.server.loopDelayP99Ms === null ? 'not reported (loop saturated)' : `${ms(r.server.loopDelayP99Ms)} ms`}, other CPU use on the box ${r.machine ? `${f(r.machine.otherCores, 2)} cores` : '—'}, per joined connection ${f(r.server.rssPerConnectionKB, 1)} KB RSS / ${f(r.server.heapPerConnectionKB, 1)} KB heap${Object.keys(r.notes).length ? `, notes: ${JSON.stringify(r.notes)}` : ''}`,
    )
  const socketioNote =
    config.socketioClient === 'official'
      ? 'use socket.io-client (websocket transport only)'
      : "speak engine.io 4 / socket.io 5 text packets over raw `ws` (`--socketio-client official` switches to socket.io-client: its load processes need more CPU, which on 2 cores leaves less to the server, while the server's CPU per delivery stays the same: 169 k vs 166 k deliveries per CPU second at N=100 in a check run)"
  const checkText = check
    ? `At N=${check.n}: Syncline delivers ${f(check.efficiencyVsSocketIo, 2)}× Socket.IO's deliveries per server CPU second (target ≥ 5×: ${check.efficiencyOk ? 'met' : 'NOT met'}); ${check.lost} positions lost (target 0: ${check.lostOk ? 'met' : 'NOT met'}${check.lost > 0 ? `; ${check.lostWithinTwoTicks} of them were replaced by an update sent within two ticks, i.e. coalesced by a tick that fired late` : ''}); p99 over all receivers ${ms(check.p99Ms)} ms and at the lone probe client ${ms(check.probeP99Ms)} ms (target ≤ one tick + 5 ms = ${check.p99LimitMs} ms: ${check.p99Ok ? 'met' : 'NOT met'} over all receivers, ${check.probeP99Ok ? 'met' : 'NOT met'} at the probe).`
    : 'Syncline was not measured in this run (see the notes below).'
  return `## Presence and cursors

A room of N users, each moving a cursor ${config.rate} times a second, relayed by the server to
every other member. Run ${doc.date} (${config.durationMs / 1000} s measured after a
${config.warmupMs / 1000} s warm-up, ${config.drainMs / 1000} s drain).

Reproduce from the repository root (builds the server first):

\`\`\`sh
npx turbo run build --filter=@syncline/server...
pnpm bench                 # = pnpm --filter @syncline/bench bench: all targets, N = 50 and 100
pnpm bench --sizes 100 --targets syncline,socketio --duration 5   # a subset
\`\`\`

The figures below come from \`${doc.command}\` (\`--wait-quiet\` and \`--retries\` wait for,
and repeat runs disturbed by, other work on a shared box; \`--help\` lists every flag).

Machine: ${machine.cpus} × ${machine.cpuModel}, ${f(machine.memGB, 1)} GB RAM, ${machine.os},
Node ${machine.node}. Raw results: \`bench/results/${doc.file}\`.

${markdownTable(head, rows(results))}

Syncline versus each peer (same load, same run):

${ratioTable(results)}

${checkText}

**What is measured.** *deliveries/s*: cursor updates from another user received by the clients
during the measured window (asked = N·(N−1)·${config.rate}). *frames/socket/s*: WebSocket
messages received per client socket per second (Syncline coalesces a tick's presence into one
\`batch\` frame per socket; the peers send one message per update). *p50/p99*: send → receipt,
from a timestamp (\`performance.timeOrigin + performance.now()\`) embedded in each payload to
the arrival of the WebSocket message carrying it, for updates sent inside the window, over all
receivers; *probe*: the same for user 0 alone, which runs in a process of its own. A load
process serves dozens of sockets one after the other, so the all-receivers figure includes the
load generator's own queueing (worst when a whole tick's batches arrive at once); the probe
shows what a single client sees. *lost*: for each (sender, receiver) pair, an update sent inside
the window that was not received by the end of the drain, unless a newer update from the same
sender, sent at most one Syncline tick (${config.tickMs} ms) later, was received
(*superseded*; the same rule is applied to every target). *server CPU*: \`process.cpuUsage()\`
of the server process, sampled inside that process (by a worker thread, so a saturated main
loop cannot delay the samples) at the window's edges; *s /100k* = CPU seconds
per 100 000 deliveries. *RSS/heap*: the server process after a forced GC, once all users had
joined and after the drain.

**Methodology, honestly.** Everything runs on one ${machine.cpus}-core machine over loopback:
the server in one process (\`child_process.fork\`), the simulated users in ${config.procs} other
processes plus a probe process holding user 0, so load generation competes with the server for
the same cores and the absolute numbers are lower than on separate machines; ratios between
targets measured in the same run are the meaningful figures. Each target gets the same schedule
(sends spread evenly over the ${1000 / config.rate} ms period). Load clients are lean on purpose,
so client cost does not decide the result: Syncline's speak the wire protocol over raw \`ws\`
with \`@syncline/protocol\`'s codec (not \`@syncline/core\`); y-websocket's and Hocuspocus's are
raw \`ws\` clients that send y-protocols awareness updates and decode the ones they receive (the
stock WebsocketProvider re-sends every awareness update it receives and cannot send its share
at N=100); Socket.IO's ${socketioNote}. The y-websocket server and Hocuspocus echo each
awareness update to its sender too: those echoes cost them server CPU but are not counted as
deliveries. The y-websocket server runs on \`ws\` 8 (the package's own bin uses \`ws\` 6).
Loopback latency excludes real network delay. "Other CPU use on the box" is the whole machine's
busy time (/proc/stat) minus the server and load processes: kernel loopback networking plus
anything else that ran; a run where it is high competed with other work and is less reliable
(and flatters servers that merge more per event-loop turn when slowed down, like Hocuspocus).
Repeated clean runs on this box spread by up to about ±10 % in CPU per delivery (Socket.IO
at N=100: 143–168 k per CPU s), so smaller differences are noise; compare ratios taken from
one run.
"Per joined connection" is the server's growth from start to all-joined divided by N (RSS is
rough at this N; heap is the finer figure).
Per run:

${loadNotes.map((l) => `- ${l}`).join('\n')}
`
}

/** Replaces (or appends) the "Presence and cursors" section of the benchmarks page. */
export function updateDocs(path, section) {
  let text
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    text =
      '# Benchmarks\n\nSpeed and memory, measured by `bench/` side by side with peers on the same machine in the same run.\n'
  }
  const start = text.indexOf('## Presence and cursors')
  if (start === -1) {
    text = `${text.trimEnd()}\n\n${section}`
  } else {
    const next = text.indexOf('\n## ', start + 3)
    text = text.slice(0, start) + section + (next === -1 ? '' : `\n${text.slice(next + 1)}`)
  }
  writeFileSync(path, `${text.trimEnd()}\n`)
}
