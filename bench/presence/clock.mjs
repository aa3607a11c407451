// One wall clock for every process of the benchmark: send timestamps travel inside payloads
// and are compared in another process, so all sides must read the same clock in ms.

/** Milliseconds since the epoch with sub-millisecond resolution, comparable across processes. */
export const now = () => performance.timeOrigin + performance.now()

/** Resolves after `ms` milliseconds. */
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** Resolves at the absolute time `at` (a `now()` value); at once when it is already past. */
export const sleepUntil = (at) => sleep(Math.max(0, at - now()))
