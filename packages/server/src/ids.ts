// Random identifiers from the OS CSPRNG, long enough that guessing one is hopeless: resume
// tokens are secrets, and connectionIds must not be predictable either.
import { randomBytes } from 'node:crypto'

/** A new unguessable connection id (128 random bits, base64url). */
export function createConnectionId(): string {
  return randomBytes(16).toString('base64url')
}

/** A new secret for `hello.resume` (128 random bits), sent only to the connection it resumes. */
export function createResumeToken(): string {
  return randomBytes(16).toString('base64url')
}

/** A new anonymous user id, `anon-` followed by 72 random bits. */
export function createAnonymousUserId(): string {
  return `anon-${randomBytes(9).toString('base64url')}`
}

/** A new id for this server process, used to ignore our own messages coming back on the bus. */
export function createServerId(): string {
  return randomBytes(12).toString('base64url')
}
