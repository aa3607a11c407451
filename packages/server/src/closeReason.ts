// RFC 6455 limits a close reason to 123 bytes of UTF-8 and `ws` throws on longer ones, so
// every reason the server sends (some contain user text, like an auth error) goes through here.
import { limits } from './defaults'

/** Cuts `reason` to at most `maxBytes` bytes of UTF-8 without splitting a character. */
export function truncateCloseReason(
  reason: string,
  maxBytes: number = limits.maxCloseReasonBytes,
): string {
  if (Buffer.byteLength(reason) <= maxBytes) return reason
  let out = ''
  let bytes = 0
  for (const char of reason) {
    const size = Buffer.byteLength(char)
    if (bytes + size > maxBytes) break
    out += char
    bytes += size
  }
  return out
}
