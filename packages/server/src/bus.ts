// The seam between server processes. All room traffic (broadcasts, presence) goes through a
// Bus, so moving from one process to Redis or NATS changes no room code.

/**
 * Moves opaque messages between server processes by topic.
 *
 * Delivery may be at-most-once (Redis Pub/Sub, core NATS): room code only sends ephemeral
 * traffic this way and tolerates loss. A publisher may or may not receive its own messages;
 * the server ignores messages it published itself.
 */
export interface Bus {
  /** Sends `message` to every subscriber of `topic` (possibly in other processes). */
  publish(topic: string, message: Uint8Array): void
  /** Calls `listener` for each message on `topic` until the returned function is called. */
  subscribe(topic: string, listener: (message: Uint8Array) => void): () => void
  /** Releases the bus's resources. A server closes only a bus it created itself. */
  close(): Promise<void>
}
