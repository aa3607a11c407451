// Prints where a server process spent its CPU: self time per package and function from a V8
// .cpuprofile written by `--cpu-prof` (bench:documents --cpu-prof), plus the inclusive time of
// named functions, so a missed target can be traced to its cause.
import { readFileSync } from 'node:fs'

const [file, top = '25', inclusive = ''] = process.argv.slice(2)
if (!file) {
  console.log(
    'node documents/profileSummary.mjs FILE.cpuprofile [TOP] [fnA,fnB,… for inclusive time]',
  )
  process.exit(1)
}
const profile = JSON.parse(readFileSync(file, 'utf8'))
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const parent = new Map()
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
const IDLE = new Set(['(idle)', '(program)'])
const pkg = (url) => {
  if (!url) return '(native)'
  const m = url.match(/node_modules\/\.pnpm\/([^/]+)\//) ?? url.match(/packages\/([^/]+)\//)
  return m ? m[1] : `node:${url.replace(/^.*\//, '')}`
}
const add = (map, key, v) => map.set(key, (map.get(key) ?? 0) + v)
const fns = new Map()
const pkgs = new Map()
const wanted = inclusive ? inclusive.split(',') : []
const incl = new Map()
let busy = 0
for (let i = 0; i < profile.samples.length; i++) {
  const us = profile.timeDeltas[i] ?? 0
  const id = profile.samples[i]
  const { functionName, url, lineNumber } = byId.get(id).callFrame
  if (IDLE.has(functionName)) continue
  busy += us
  add(fns, `${functionName || '(anonymous)'} ${pkg(url)}:${lineNumber + 1}`, us)
  add(pkgs, pkg(url), us)
  if (wanted.length) {
    const seen = new Set()
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const name = byId.get(at).callFrame.functionName
      if (wanted.includes(name) && !seen.has(name)) {
        seen.add(name)
        add(incl, name, us)
      }
    }
  }
}
const show = (map, n) =>
  [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(
      ([k, us]) =>
        `${((100 * us) / busy).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`,
    )
    .join('\n')
console.log(`${(busy / 1000).toFixed(0)} ms busy (percentages are of busy time)`)
console.log(`\nby package (self):\n${show(pkgs, 12)}`)
console.log(`\nby function (self):\n${show(fns, Number(top))}`)
if (wanted.length) console.log(`\ninclusive:\n${show(incl, wanted.length)}`)
