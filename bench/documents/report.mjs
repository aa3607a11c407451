// Turns the documents benchmark's results into console tables, ratios, the target check and
// the "Documents" section of docs/benchmarks.md (which it replaces in place, nothing else).
import { readFileSync, writeFileSync } from 'node:fs'

export const LABELS = {
  syncline: 'Syncline',
  ywebsocket: 'y-websocket server 0.1.5',
  hocuspocus: 'Hocuspocus 4.7',
  floor: 'bare ws relay (reference)',
  syncline16: 'Syncline, documentFlushMs 16 (reference)',
}
export const label = (t) => LABELS[t] ?? t

const f = (v, digits = 1) =>
  v === null || v === undefined || Number.isNaN(v) ? '—' : v.toFixed(digits)
const ms = (v) => (v === null || v === undefined ? '—' : v < 10 ? v.toFixed(2) : v.toFixed(0))
const k = (v) => (v === null || v === undefined ? '—' : `${(v / 1000).toFixed(1)} k`)
const x = (v) => (v === null || v === undefined || !Number.isFinite(v) ? '—' : `${v.toFixed(2)}×`)

/** Nearest-rank percentile of a list of numbers (p in 0..1). */
export function percentile(values, p) {
  if (values.length === 0) return null
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]
}

/** Median and p90 of each timing of a list of join samples. */
export function syncStats(samples) {
  const stat = (key) => ({
    median: percentile(
      samples.map((s) => s[key]),
      0.5,
    ),
    p90: percentile(
      samples.map((s) => s[key]),
      0.9,
    ),
  })
  return {
    n: samples.length,
    synced: stat('syncedMs'),
    toStep2: stat('toStep2Ms'),
    total: stat('totalMs'),
    connect: stat('connectMs'),
  }
}

function table(head, body, markdown) {
  if (markdown) {
    return [
      `| ${head.join(' | ')} |`,
      `|${head.map(() => '---').join('|')}|`,
      ...body.map((r) => `| ${r.join(' | ')} |`),
    ].join('\n')
  }
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)))
  const line = (cells) => cells.map((c, i) => (c ?? '').padEnd(widths[i])).join('  ')
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n')
}

export function syncTable(results, markdown = false) {
  const head = [
    'target',
    'mode',
    'samples',
    'synced ms median',
    'synced ms p90',
    'step 2 received ms median',
    'incl. TCP+upgrade ms median',
    'step 2 bytes',
  ]
  const body = []
  for (const r of results) {
    if (r.error) {
      body.push([label(r.target), '—', `error: ${r.error}`])
      continue
    }
    for (const mode of ['cold', 'warm']) {
      const s = r.stats[mode]
      body.push([
        label(r.target),
        mode,
        String(s.n),
        ms(s.synced.median),
        ms(s.synced.p90),
        ms(s.toStep2.median),
        ms(s.total.median),
        String(r[mode][0]?.step2Bytes ?? '—'),
      ])
    }
  }
  return table(head, body, markdown)
}

export function fanoutTable(results, markdown = false) {
  const head = [
    'target',
    'editors × chars/s',
    'deliveries/s (asked)',
    'server CPU s /100k deliveries',
    'deliveries / server CPU s',
    'server CPU %',
    'p50 ms',
    'p99 ms',
    'messages/socket/s',
    'missing',
    'converged',
  ]
  const body = results.map((r) =>
    r.error
      ? [label(r.target), '—', `error: ${r.error}`]
      : [
          label(r.target),
          `${r.editors} × ${r.rate}`,
          `${k(r.deliveriesPerSec)} (${k(r.askedDeliveriesPerSec)})`,
          f(r.server.cpuSecondsPer100k, 3),
          k(r.server.deliveriesPerCpuSecond),
          f(100 * r.server.cpuShare, 0),
          ms(r.latencyMs.p50),
          ms(r.latencyMs.p99),
          f(r.messagesPerSocketPerSec, 0),
          String(r.missing),
          r.converged ? `yes (${r.finalLength} chars)` : `NO (${r.distinctTexts} texts)`,
        ],
  )
  return table(head, body, markdown)
}

/** Syncline versus each peer: sync speed (peer time ÷ Syncline time) and fan-out efficiency. */
export function ratios(sync, fanout) {
  const out = []
  const s = sync.find((r) => r.target === 'syncline' && !r.error)
  const fs = fanout.find((r) => r.target === 'syncline' && !r.error)
  for (const peer of ['ywebsocket', 'hocuspocus']) {
    const p = sync.find((r) => r.target === peer && !r.error)
    const fp = fanout.find((r) => r.target === peer && !r.error)
    if (!p && !fp) continue
    out.push({
      peer,
      coldSpeed: s && p ? p.stats.cold.synced.median / s.stats.cold.synced.median : null,
      warmSpeed: s && p ? p.stats.warm.synced.median / s.stats.warm.synced.median : null,
      coldP90Speed: s && p ? p.stats.cold.synced.p90 / s.stats.cold.synced.p90 : null,
      warmP90Speed: s && p ? p.stats.warm.synced.p90 / s.stats.warm.synced.p90 : null,
      efficiency:
        fs && fp ? fs.server.deliveriesPerCpuSecond / fp.server.deliveriesPerCpuSecond : null,
      p99: fs && fp ? [fs.latencyMs.p99, fp.latencyMs.p99] : null,
    })
  }
  return out
}

export function ratioTable(rows, markdown = false) {
  const head = [
    'peer',
    'cold sync speed (peer median ÷ Syncline median)',
    'cold p90',
    'warm sync speed',
    'warm p90',
    'fan-out deliveries per server CPU s (Syncline ÷ peer)',
    'fan-out p99 ms (Syncline vs peer)',
  ]
  const body = rows.map((r) => [
    label(r.peer),
    x(r.coldSpeed),
    x(r.coldP90Speed),
    x(r.warmSpeed),
    x(r.warmP90Speed),
    x(r.efficiency),
    r.p99 ? `${ms(r.p99[0])} vs ${ms(r.p99[1])}` : '—',
  ])
  return table(head, body, markdown)
}

/** The brief's targets: sync no slower than either peer (medians); fan-out ≥ 2× y-websocket's. */
export function targetCheck(sync, fanout) {
  const s = sync.find((r) => r.target === 'syncline' && !r.error)
  const check = { sync: [], fanout: null }
  if (s) {
    for (const p of sync.filter((r) => r.target !== 'syncline' && !r.error)) {
      for (const mode of ['cold', 'warm']) {
        const mine = s.stats[mode].synced.median
        const theirs = p.stats[mode].synced.median
        check.sync.push({
          peer: p.target,
          mode,
          syncline: mine,
          peerMs: theirs,
          ok: mine <= theirs,
        })
      }
    }
  }
  const fs = fanout.find((r) => r.target === 'syncline' && !r.error)
  const fy = fanout.find((r) => r.target === 'ywebsocket' && !r.error)
  if (fs && fy) {
    const ratio = fs.server.deliveriesPerCpuSecond / fy.server.deliveriesPerCpuSecond
    check.fanout = { ratio, ok: ratio >= 2, converged: fs.converged, missing: fs.missing }
  }
  return check
}

export function checkText(check) {
  const lines = []
  for (const c of check.sync) {
    lines.push(
      `Initial sync, ${c.mode}, vs ${label(c.peer)}: Syncline ${ms(c.syncline)} ms vs ${ms(c.peerMs)} ms (median) — target "no slower": ${c.ok ? 'met' : 'NOT met'}.`,
    )
  }
  if (check.fanout) {
    lines.push(
      `Fan-out: Syncline delivers ${x(check.fanout.ratio)} the y-websocket server's updates per server CPU second — target ≥ 2×: ${check.fanout.ok ? 'met' : 'NOT met'}; converged: ${check.fanout.converged ? 'yes' : 'NO'}, missing deliveries: ${check.fanout.missing}.`,
    )
  }
  return lines
}

/** Markdown for docs/benchmarks.md. `analysis` is hand-written text kept across runs. */
export function docsSection(doc, analysis) {
  const { machine, config, trace, sync, fanout, check } = doc
  const fanoutNotes = fanout
    .filter((r) => !r.error)
    .map(
      (r) =>
        `${label(r.target)}: ${r.rounds ? `server CPU s per 100 k deliveries in each round ${r.rounds.map((q) => (q.error ? 'failed' : f(q.cpuSecondsPer100k, 3))).join(' / ')} (the median round is shown); ` : ''}sent ${f(r.sentPerSec, 0)} edits/s of ${r.askedEditsPerSec} asked (send lag p99 ${ms(r.sendLagP99Ms)} ms); load processes CPU ${r.load.map((l) => `${f(100 * l.cpuShare, 0)} %`).join(' + ')} (event-loop utilisation ${r.load.map((l) => f(100 * l.elu, 0)).join(' / ')} %); server event-loop delay p99 ${ms(r.server.loopDelayP99Ms)} ms; other CPU use on the box ${r.machine ? `${f(r.machine.otherCores, 2)} cores` : '—'}; echoes to the sender ${f(r.echoesPerSec, 0)}/s, acks ${f(r.acksPerSec, 0)}/s; server RSS after ${f(r.server.rssMB, 0)} MB`,
    )
  const syncNotes = sync
    .filter((r) => !r.error)
    .map(
      (r) =>
        `${label(r.target)}: server process start to listening, median ${ms(percentileOf(r.cold, 'serverStartMs'))} ms (not part of the cold figure); whole-box CPU use while its samples ran (this benchmark included) ${r.machine ? `${f(r.machine.busyCores, 2)} cores` : '—'}`,
    )
  return `## Documents

Two jobs on one Yjs document (a \`Y.Text\`), side by side with the y-websocket server and
Hocuspocus in the same run. Run ${doc.date}.

Reproduce from the repository root (builds the server first):

\`\`\`sh
npx turbo run build --filter=@syncline/server...
pnpm --filter @syncline/bench bench:documents
pnpm --filter @syncline/bench bench:documents --targets syncline,ywebsocket --editors 20 --duration 5   # a subset
\`\`\`

The figures below come from \`${doc.command}\` (\`--help\` lists every flag; a full run takes about
${Math.round(doc.elapsedSeconds / 10) * 10} s).

Machine: ${machine.cpus} × ${machine.cpuModel}, ${f(machine.memGB, 1)} GB RAM, ${machine.os},
Node ${machine.node}. Raw results: \`bench/results/${doc.file}\`.

### 1. Initial sync of a large document

The document: a deterministic synthetic editing trace (seed ${trace.seed}) of ${trace.edits.toLocaleString('en-US')} edits
in one \`Y.Text\` — ${trace.inserts.toLocaleString('en-US')} single-character inserts, ${trace.deletes.toLocaleString('en-US')} deletions (backspace runs and
selections), ${trace.jumps.toLocaleString('en-US')} cursor jumps, typed in bursts like the Yjs B4 trace, which no installed
package ships — ending at ${trace.length.toLocaleString('en-US')} characters. Encoded (Yjs update v1, what all three send):
**${f(trace.encodedBytes / 1024, 0)} KB** (v2: ${f(trace.encodedV2Bytes / 1024, 0)} KB; B4's 260 k edits / 105 k chars encode to 160 KB).

A new client joins and syncs; *synced* = from the socket's \`open\` to the server's sync step 2
applied to the client's empty \`Y.Doc\` (step 2 received: the same without the client's apply;
incl. TCP+upgrade: from \`new WebSocket()\`). **Cold**: the first join after a server start, the
document loaded from the server's store — a fresh server process per sample. **Warm**: the
document already in memory (a holder client stays joined), ${3 * config.reps} joins one after the other
after 2 discarded ones.

${syncTable(sync, true)}

### 2. Update fan-out: ${config.editors} editors typing

${config.editors} clients in one room, each typing one character at a time into the shared \`Y.Text\`
at ${config.rate} characters per second (a brisk human typist; ${config.editors} × ${config.rate} = ${config.editors * config.rate} edits/s, each delivered to
the ${config.editors - 1} others: ${k(config.editors * (config.editors - 1) * config.rate)} deliveries/s asked) for ${config.durationMs / 1000} s after a
${config.warmupMs / 1000} s warm-up, then ${config.drainMs / 1000} s to drain. The warm-up is long because a server's hot
paths run only a few hundred times a second at this load, so V8 keeps optimising them for tens
of seconds: measured after 2 s, every server here cost 25–50 % more CPU per delivery than after
30 s, the code-heavier ones most, while a server in production runs for days.

${fanoutTable(fanout, true)}

### Syncline versus each peer

${ratioTable(ratios(sync, fanout), true)}

${checkText(check)
  .map((l) => `- ${l}`)
  .join('\n')}

${analysis ?? ''}

**What is measured.** *deliveries/s*: edits by another editor received by the clients during the
measured window, counted per edit (Yjs \`clientID\`, \`clock\`), so an update that merges several
edits (Hocuspocus merges the updates of one event-loop turn) counts each. *server CPU*:
\`process.cpuUsage()\` of the server process over the window, sampled inside that process by a
worker thread; *s /100k* = CPU seconds per 100 000 deliveries. *p50/p99*: from the moment an
editor typed a character (just before the local transaction) to the arrival, at each other
editor, of the WebSocket message carrying it, for edits typed inside the window; every editor's
send times and receive times come from one clock (\`performance.timeOrigin + performance.now()\`).
*missing*: (editor, edit) pairs never received by the end of the drain. *converged*: every
editor's text is identical and as long as the number of characters typed.

**Methodology, honestly.** Everything runs on one ${machine.cpus}-core machine over 127.0.0.1: each
server in its own process (\`child_process.fork\`), the clients in other processes (the joining
client of job 1 in one, the editors of job 2 split over ${config.procs}), so the load competes with the
server for the same cores; ratios between targets in the same run are the meaningful figures,
and a box shared with other work makes absolute latencies worse (see "other CPU use" below).
Clients are lean on purpose, identical for all three targets apart from framing: raw \`ws\` plus
hand-encoded y-protocols sync messages, each with its own \`Y.Doc\` (not \`@syncline/core\`,
\`WebsocketProvider\` or \`HocuspocusProvider\`). They pipeline their first messages (Syncline:
hello + join + step 1, as \`@syncline/core\` does; Hocuspocus: auth + step 1; y-websocket:
step 1). Editors apply what they received in one transaction just before each keystroke
(same end state, much less load-generator CPU than one transaction per message); receive times
are taken on arrival regardless. Stores: Syncline's memory \`DocumentStore\` preloaded with the
document as a compacted snapshot (and, as by default, every edit of job 2 handed to its
persistence writer); the y-websocket server's \`bindState\` persistence hook applying the document
synchronously from memory; Hocuspocus's \`onLoadDocument\` hook applying it (no storage extension).
The y-websocket server and Hocuspocus echo every update to its sender too, and Syncline and
Hocuspocus acknowledge every update to its sender: all cost server CPU and are not counted as
deliveries. **The y-websocket server 0.1.5 cannot sync documents as installed**: its own
dependency tree pairs \`yjs@14.0.0-16\` with \`@y/protocols\` on \`@y/y@14.0.0-rc.7\`, and every
update throws \`store.getClock is not a function\`. The benchmark runs its unchanged \`utils.js\`
(\`setupWSConnection\`) on yjs 13.6 + y-protocols 1.0.7 through a module resolve hook
(\`bench/documents/yjs13Hooks.mjs\`) — the same server code y-websocket 1.x shipped — on \`ws\` 8.
Loopback latency excludes real network delay and TLS. The fan-out runs each target
${config.rounds ?? 1} time(s), interleaved in a rotated order, and shows each target's median round:
this box's speed drifts by ±15 % over minutes, which a single run per target turns into a
different ratio every time. _bare ws relay (reference)_ is not a peer: it forwards every update,
merged per window of Syncline's length (\`documentFlushMs\`), to every socket, with no document,
validation, acks or persistence — what receiving and sending the WebSocket messages alone costs
here, the floor under any server that keeps a document. _Syncline, documentFlushMs 16
(reference)_ is Syncline with the shorter window, to show what that option trades.

Per run:

${[...syncNotes, ...fanoutNotes].map((l) => `- ${l}`).join('\n')}
`
}

function percentileOf(samples, key) {
  return percentile(
    samples.map((s) => s[key]).filter((v) => v !== undefined),
    0.5,
  )
}

const MARK = '## Documents'

/** Replaces (or appends after everything else) the "Documents" section of the benchmarks page. */
export function updateDocs(path, section) {
  let text
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    text =
      '# Benchmarks\n\nSpeed and memory, measured by `bench/` side by side with peers on the same machine in the same run.\n'
  }
  const start = text.indexOf(`\n${MARK}\n`)
  if (start === -1) {
    text = `${text.trimEnd()}\n\n${section}`
  } else {
    const next = text.indexOf('\n## ', start + MARK.length + 1)
    text =
      text.slice(0, start + 1) + section.trimEnd() + (next === -1 ? '' : `\n${text.slice(next)}`)
  }
  writeFileSync(path, `${text.trimEnd()}\n`)
}
