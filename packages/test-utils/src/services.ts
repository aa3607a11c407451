// Tests that need Redis, NATS or Chromium skip loudly when those are missing, except in CI
// (SYNCLINE_REQUIRE_SERVICES=1), where a missing service is a failure, not a silent pass.
import { existsSync } from 'node:fs'
import { connect } from 'node:net'

/** True when CI demands every external service (SYNCLINE_REQUIRE_SERVICES=1). */
export const servicesRequired = process.env.SYNCLINE_REQUIRE_SERVICES === '1'

/** Resolves true when something accepts TCP connections at host:port within `timeoutMs`. */
export function isPortOpen(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port })
    const done = (open: boolean) => {
      socket.destroy()
      resolve(open)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

/**
 * Decides whether a suite that needs `service` runs. Returns true to run; false to skip (after
 * printing why). Throws when the service is missing and services are required.
 */
export function serviceAvailable(service: string, available: boolean, hint: string): boolean {
  if (available) return true
  const message = `${service} is not available (${hint})`
  if (servicesRequired) throw new Error(`${message}; SYNCLINE_REQUIRE_SERVICES=1 forbids skipping`)
  console.warn(`\n⚠️  SKIPPING tests that need ${message}. Set it up to run them.\n`)
  return false
}

/** Debian's Chromium, the only browser the end-to-end tests use (never a downloaded one). */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** Whether Chromium is installed at {@link chromiumPath}. */
export function hasChromium(): boolean {
  return existsSync(chromiumPath)
}

/** Flags for headless Chromium on a machine with a closed network. */
export const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]
