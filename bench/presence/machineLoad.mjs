// Whole-machine CPU use from /proc/stat over the measured window, so a run disturbed by other
// work on the box (builds, tests) can be recognised: busy cores minus the bench's own processes.
import { readFileSync } from 'node:fs'

/** Cumulative busy and total jiffies of all CPUs; null where /proc/stat is unavailable. */
function sample() {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]
    const v = line.trim().split(/\s+/).slice(1).map(Number)
    const idle = v[3] + (v[4] ?? 0)
    const total = v.reduce((a, b) => a + b, 0)
    return { busy: total - idle, total }
  } catch {
    return null
  }
}

/** Starts a measurement; `stop()` returns the busy fraction of all cores (0..1) since. */
export function machineBusy() {
  const first = sample()
  return {
    stop() {
      const last = sample()
      if (!first || !last || last.total === first.total) return null
      return (last.busy - first.busy) / (last.total - first.total)
    },
  }
}

/**
 * Waits until the machine is quiet (less than `maxBusyCores` busy over a 1 s sample) or until
 * `maxWaitMs` passed; returns the last busy-core figure (null without /proc/stat).
 */
export async function waitForQuiet(maxBusyCores, maxWaitMs, cores) {
  const deadline = Date.now() + maxWaitMs
  for (;;) {
    const m = machineBusy()
    await new Promise((resolve) => setTimeout(resolve, 1000))
    const share = m.stop()
    if (share === null) return null
    const busy = share * cores
    if (busy < maxBusyCores || Date.now() >= deadline) return busy
  }
}
