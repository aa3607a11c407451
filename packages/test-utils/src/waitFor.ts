// Waiting for something observable without sleeping: subscribe to a store or an event source,
// resolve the moment the condition holds, and fail after a bounded timeout with a message that
// says what was expected and what was last seen. Structural types only (anything shaped like a
// nanostores store or an emitter with `on` returning an unsubscribe), so test-utils needs no
// dependency on the packages under test.

/** Anything with change notifications that starts with the current value (a nanostores store). */
export interface Subscribable<T> {
  /** Calls `listener` with the current value at once, then on every change. */
  subscribe(listener: (value: T) => void): () => void
}

/** Anything that emits named events and returns an unsubscribe function from `on`. */
export interface EventSource<E extends string, A extends unknown[]> {
  on(event: E, listener: (...args: A) => void): () => void
}

/** Options of the wait helpers. */
export interface WaitOptions {
  /** Fails the wait after this many ms. Default 5 000. */
  timeoutMs?: number
  /** Describes what is awaited, for the timeout message. */
  label?: string
}

const defaultTimeoutMs = 5_000

function show(value: unknown): string {
  try {
    const json = JSON.stringify(value)
    if (json === undefined) return String(value)
    return json.length > 400 ? `${json.slice(0, 400)}…` : json
  } catch {
    return String(value)
  }
}

/**
 * Resolves with the store's value as soon as `predicate` holds for it (checked at once, then on
 * every change). Rejects after `timeoutMs`, naming the last value seen.
 */
export function waitForValue<T>(
  store: Subscribable<T>,
  predicate: (value: T) => boolean,
  { timeoutMs = defaultTimeoutMs, label = 'a matching value' }: WaitOptions = {},
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false
    let last: T | undefined
    let unsubscribe: (() => void) | undefined
    const finish = () => {
      done = true
      clearTimeout(timer)
      unsubscribe?.()
    }
    const timer = setTimeout(() => {
      if (done) return
      finish()
      reject(
        new Error(
          `timed out after ${timeoutMs} ms waiting for ${label}; last value: ${show(last)}`,
        ),
      )
    }, timeoutMs)
    unsubscribe = store.subscribe((value) => {
      if (done) return
      last = value
      let matched: boolean
      try {
        matched = predicate(value)
      } catch (error) {
        finish()
        reject(error)
        return
      }
      if (!matched) return
      finish()
      resolve(value)
    })
    // `subscribe` may have resolved synchronously, before `unsubscribe` was assigned.
    if (done) unsubscribe()
  })
}

/** Resolves once the store equals `expected` (===). */
export function waitForEqual<T>(
  store: Subscribable<T>,
  expected: T,
  options: WaitOptions = {},
): Promise<T> {
  return waitForValue(store, (value) => value === expected, {
    label: show(expected),
    ...options,
  })
}

/**
 * Resolves with the arguments of the next `event` for which `predicate` holds (every one when
 * there is no predicate). Rejects after `timeoutMs`.
 */
export function waitForEvent<E extends string, A extends unknown[]>(
  source: EventSource<E, A>,
  event: E,
  predicate: (...args: A) => boolean = () => true,
  { timeoutMs = defaultTimeoutMs, label }: WaitOptions = {},
): Promise<A> {
  type Args = A
  return new Promise<Args>((resolve, reject) => {
    const timer = setTimeout(() => {
      off()
      reject(
        new Error(
          `timed out after ${timeoutMs} ms waiting for "${event}"${label ? ` (${label})` : ''}`,
        ),
      )
    }, timeoutMs)
    const listener = (...args: Args) => {
      if (!predicate(...args)) return
      clearTimeout(timer)
      off()
      resolve(args)
    }
    const off = source.on(event, listener)
  })
}

/** Every value a store takes from now on (the current one first), with the time it arrived. */
export interface ValueRecorder<T> {
  readonly values: readonly T[]
  readonly times: readonly number[]
  /** Stops recording; safe to call twice. */
  stop(): void
}

/** Records every value of `store` (starting with the current one) until `stop()`. */
export function recordValues<T>(
  store: Subscribable<T>,
  now: () => number = Date.now,
): ValueRecorder<T> {
  const values: T[] = []
  const times: number[] = []
  const unsubscribe = store.subscribe((value) => {
    values.push(value)
    times.push(now())
  })
  let stopped = false
  return {
    values,
    times,
    stop() {
      if (stopped) return
      stopped = true
      unsubscribe()
    },
  }
}

/** Every call of an event, with its arguments, until `stop()`. */
export interface EventRecorder<A extends unknown[]> {
  readonly calls: readonly A[]
  /** Resolves once `predicate(calls)` holds (checked now and after every call). */
  waitUntil(
    predicate: (calls: readonly A[]) => boolean,
    options?: WaitOptions,
  ): Promise<readonly A[]>
  /** Resolves once `count` calls have been recorded; rejects after `timeoutMs`. */
  waitForCount(count: number, options?: WaitOptions): Promise<readonly A[]>
  stop(): void
}

/** Records every emission of `event` on `source`. */
export function recordEvents<E extends string, A extends unknown[]>(
  source: EventSource<E, A>,
  event: E,
): EventRecorder<A> {
  const calls: A[] = []
  const waiters = new Set<() => void>()
  const off = source.on(event, (...args: A) => {
    calls.push(args)
    for (const waiter of [...waiters]) waiter()
  })
  const waitUntil = (
    predicate: (calls: readonly A[]) => boolean,
    { timeoutMs = defaultTimeoutMs, label = 'a matching call' }: WaitOptions = {},
  ): Promise<readonly A[]> => {
    if (predicate(calls)) return Promise.resolve(calls)
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!predicate(calls)) return
        clearTimeout(timer)
        waiters.delete(check)
        resolve(calls)
      }
      const timer = setTimeout(() => {
        waiters.delete(check)
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${label} of "${event}"; got ${calls.length} calls: ${show(calls)}`,
          ),
        )
      }, timeoutMs)
      waiters.add(check)
    })
  }
  return {
    calls,
    waitUntil,
    waitForCount(count, options = {}) {
      return waitUntil((all) => all.length >= count, { label: `${count} calls`, ...options })
    },
    stop() {
      off()
      waiters.clear()
    },
  }
}

/** A promise with its resolve/reject exposed. */
export interface Deferred<T> {
  readonly promise: Promise<T>
  resolve(value: T): void
  reject(error: unknown): void
}

/** Creates a {@link Deferred}. */
export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

/** Rejects with a message naming `label` unless `promise` settles within `timeoutMs`. */
export function withTimeout<T>(promise: Promise<T>, timeoutMs: number, label: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${label}`)),
      timeoutMs,
    )
    promise.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        reject(error)
      },
    )
  })
}
