// Sent in the first frame of every connection; a server that speaks another major version
// closes with CloseCode.ProtocolVersion instead of guessing.

/** Wire protocol version spoken by this package. */
export const PROTOCOL_VERSION = 1
