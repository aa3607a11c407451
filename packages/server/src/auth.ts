// Calling the user's `authenticate` safely: whatever it does (throw, return junk, return null)
// becomes one of three outcomes the upgrade and hello code can act on, and never an exception.
import type { IncomingHttpHeaders } from 'node:http'
import type { Authenticate, AuthenticatedUser, AuthenticateRequest } from './options'

/** Result of one `authenticate` call. */
export type AuthOutcome =
  | { kind: 'accepted'; user: AuthenticatedUser }
  | { kind: 'refused'; reason: string }
  | { kind: 'deferred' }

/** The token of an `Authorization: Bearer <token>` header, if there is one. */
export function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(headers.authorization ?? '')
  return match?.[1]
}

/**
 * Whether the HTTP request carries credentials that must be checked at the upgrade (a bearer
 * header or cookies). Browsers send cookies on cross-site WebSocket requests, which is why
 * they are checked before a socket exists.
 */
export function hasUpgradeCredentials(headers: IncomingHttpHeaders): boolean {
  return bearerToken(headers) !== undefined || (headers.cookie ?? '') !== ''
}

function describe(error: unknown): string {
  if (error instanceof Error && error.message !== '') return error.message
  return typeof error === 'string' && error !== '' ? error : 'authentication failed'
}

/**
 * Calls `authenticate` and classifies the result. `null` means "refused" at the hello and
 * "deferred to the hello" at the upgrade; a user without a usable `userId` is refused.
 */
export async function runAuthenticate(
  authenticate: Authenticate,
  request: AuthenticateRequest,
): Promise<AuthOutcome> {
  let user: AuthenticatedUser | null
  try {
    user = await authenticate(request)
  } catch (error) {
    return { kind: 'refused', reason: describe(error) }
  }
  if (user === null || user === undefined) {
    return request.phase === 'upgrade'
      ? { kind: 'deferred' }
      : { kind: 'refused', reason: 'authentication failed' }
  }
  if (typeof user !== 'object' || typeof user.userId !== 'string' || user.userId === '') {
    return { kind: 'refused', reason: 'authenticate returned no userId' }
  }
  if (user.rooms !== undefined && typeof user.rooms !== 'function') {
    return { kind: 'refused', reason: 'authenticate returned a non-function rooms' }
  }
  return { kind: 'accepted', user }
}
