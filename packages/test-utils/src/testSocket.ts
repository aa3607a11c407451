// A real `ws` client for tests that awaits messages and the close instead of sleeping: every
// received message is queued, `next()` resolves with the next one, and a socket that closes
// while a test waits fails the wait at once with the close code instead of timing out.
import WebSocket, { type ClientOptions } from 'ws'

/** A received message. */
export interface TestMessage {
  data: Buffer
  isBinary: boolean
}

/** How the socket closed. */
export interface TestClose {
  code: number
  reason: string
}

/** A connected test socket. */
export interface TestSocket {
  readonly ws: WebSocket
  /** Resolves with the next message; rejects if the socket closes first or after `timeoutMs`. */
  next(timeoutMs?: number): Promise<TestMessage>
  /** Messages received and not yet taken by `next()`. */
  readonly pending: number
  /** Resolves when the socket has closed. */
  readonly closed: Promise<TestClose>
  /** Sends bytes (binary) or a string (text). */
  send(data: Uint8Array | string): void
  /** Closes (if open) and resolves once closed. Safe to call twice. */
  close(code?: number, reason?: string): Promise<TestClose>
}

/** Thrown by {@link openTestSocket} when the server answered the upgrade with an HTTP status. */
export class UpgradeRefusedError extends Error {
  override readonly name = 'UpgradeRefusedError'
  readonly status: number
  constructor(status: number) {
    super(`upgrade refused with HTTP ${status}`)
    this.status = status
  }
}

const defaultTimeoutMs = 5_000

/**
 * Opens a WebSocket to `url` and resolves once it is open. Rejects with
 * {@link UpgradeRefusedError} when the server answers the upgrade with an HTTP error.
 */
export function openTestSocket(url: string, options: ClientOptions = {}): Promise<TestSocket> {
  const ws = new WebSocket(url, options)
  const queue: TestMessage[] = []
  const waiters: Array<{ resolve: (m: TestMessage) => void; reject: (e: Error) => void }> = []
  let closeInfo: TestClose | undefined
  const closed = new Promise<TestClose>((resolve) => {
    ws.on('close', (code, reason) => {
      closeInfo = { code, reason: reason.toString() }
      for (const waiter of waiters.splice(0)) {
        waiter.reject(new Error(`socket closed with ${code} "${closeInfo.reason}" while waiting`))
      }
      resolve(closeInfo)
    })
  })
  ws.on('message', (data, isBinary) => {
    const message = { data: data as Buffer, isBinary }
    const waiter = waiters.shift()
    if (waiter) waiter.resolve(message)
    else queue.push(message)
  })
  const socket: TestSocket = {
    ws,
    get pending() {
      return queue.length
    },
    closed,
    next(timeoutMs = defaultTimeoutMs) {
      const queued = queue.shift()
      if (queued) return Promise.resolve(queued)
      if (closeInfo) {
        return Promise.reject(
          new Error(`socket already closed with ${closeInfo.code} "${closeInfo.reason}"`),
        )
      }
      return new Promise<TestMessage>((resolve, reject) => {
        const waiter = {
          resolve: (message: TestMessage) => {
            clearTimeout(timer)
            resolve(message)
          },
          reject: (error: Error) => {
            clearTimeout(timer)
            reject(error)
          },
        }
        const timer = setTimeout(() => {
          const index = waiters.indexOf(waiter)
          if (index >= 0) waiters.splice(index, 1)
          reject(new Error(`no message within ${timeoutMs} ms`))
        }, timeoutMs)
        waiters.push(waiter)
      })
    },
    send(data) {
      ws.send(data, { binary: typeof data !== 'string' })
    },
    close(code, reason) {
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate()
      else if (ws.readyState === WebSocket.OPEN) ws.close(code, reason)
      return closed
    },
  }
  return new Promise<TestSocket>((resolve, reject) => {
    const onError = (error: Error) => reject(error)
    ws.once('error', onError)
    ws.once('unexpected-response', (_request, response) => {
      response.resume()
      reject(new UpgradeRefusedError(response.statusCode ?? 0))
      ws.terminate()
    })
    ws.once('open', () => {
      ws.off('error', onError)
      // Later errors (e.g. the server terminating) surface through `closed`.
      ws.on('error', () => {})
      resolve(socket)
    })
  })
}
