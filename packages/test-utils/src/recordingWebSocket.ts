// A `ws` WebSocket class for clients under test (`createClient({ WebSocket })`): it can send the
// headers a browser or a server-side client would (Origin, Authorization), and it records every
// socket it opened with how each one closed, so tests can assert on close codes the client
// itself only acts upon.
import WebSocket, { type ClientOptions } from 'ws'

/** How one socket opened by the class ended. */
export interface RecordedClose {
  code: number
  reason: string
}

/** One socket opened by a {@link RecordingWebSocket} class. */
export interface RecordedSocket {
  readonly socket: WebSocket
  readonly url: string
  /** Set once the socket has closed. */
  close: RecordedClose | undefined
  /** HTTP status when the server refused the upgrade. */
  refusedWith: number | undefined
  /** Resolves once the socket has closed. */
  readonly closed: Promise<RecordedClose>
}

/** A WebSocket constructor plus what it recorded. */
export interface RecordingWebSocket {
  /** Pass this as `WebSocket` to the client. */
  readonly WebSocket: new (
    url: string,
  ) => WebSocket
  /** Every socket constructed, in order. */
  readonly sockets: readonly RecordedSocket[]
  /** Closes seen so far, in order. */
  readonly closes: readonly RecordedClose[]
  /** Resolves with the next close (after the ones already recorded) matching `predicate`. */
  nextClose(
    predicate?: (close: RecordedClose) => boolean,
    timeoutMs?: number,
  ): Promise<RecordedClose>
}

/**
 * Creates a `ws` subclass that opens every socket with `options` (e.g. `{ origin }` or
 * `{ headers: { Authorization: 'Bearer x' } }`) and records it.
 */
export function recordingWebSocket(options: ClientOptions = {}): RecordingWebSocket {
  const sockets: RecordedSocket[] = []
  const closes: RecordedClose[] = []
  const waiters = new Set<(close: RecordedClose) => void>()
  class Recording extends WebSocket {
    constructor(url: string) {
      super(url, options)
      let resolveClosed!: (close: RecordedClose) => void
      const record: RecordedSocket = {
        socket: this,
        url,
        close: undefined,
        refusedWith: undefined,
        closed: new Promise((resolve) => {
          resolveClosed = resolve
        }),
      }
      sockets.push(record)
      // ws refuses a non-101 answer with this error, then closes with 1006 (as browsers do,
      // minus the message): leave that path untouched and read the status from the message.
      this.on('error', (error) => {
        const status = /Unexpected server response: (\d+)/.exec(error.message)?.[1]
        if (status !== undefined) record.refusedWith = Number(status)
      })
      this.on('close', (code, reason) => {
        const close = { code, reason: reason.toString() }
        record.close = close
        closes.push(close)
        resolveClosed(close)
        for (const waiter of [...waiters]) waiter(close)
      })
    }
  }
  return {
    WebSocket: Recording,
    sockets,
    closes,
    nextClose(predicate = () => true, timeoutMs = 5_000) {
      return new Promise((resolve, reject) => {
        const waiter = (close: RecordedClose) => {
          if (!predicate(close)) return
          clearTimeout(timer)
          waiters.delete(waiter)
          resolve(close)
        }
        const timer = setTimeout(() => {
          waiters.delete(waiter)
          reject(
            new Error(
              `no matching close within ${timeoutMs} ms; closes so far: ${JSON.stringify(closes)}`,
            ),
          )
        }, timeoutMs)
        waiters.add(waiter)
      })
    },
  }
}
