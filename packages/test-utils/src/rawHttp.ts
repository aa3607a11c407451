// Raw TCP requests for tests that must send what a normal HTTP client refuses to (thousands of
// headers, absurd header values) to check a server survives them.
import { connect } from 'node:net'

/**
 * Writes `request` verbatim to `host:port` and resolves with everything the server sent until
 * it closed the connection or `timeoutMs` passed (then resolves with what arrived so far).
 */
export function rawHttpRequest(
  port: number,
  request: string,
  { host = '127.0.0.1', timeoutMs = 5_000 }: { host?: string; timeoutMs?: number } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    const socket = connect({ host, port })
    const timer = setTimeout(() => socket.destroy(), timeoutMs)
    socket.on('data', (chunk) => chunks.push(chunk))
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // A server that answers and resets is fine; report what it said.
      if (chunks.length === 0 && error.code !== 'ECONNRESET') reject(error)
    })
    socket.on('close', () => {
      clearTimeout(timer)
      resolve(Buffer.concat(chunks).toString('latin1'))
    })
    socket.write(request)
  })
}
