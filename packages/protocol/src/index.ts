// @syncline/protocol: the wire format shared by @syncline/core and @syncline/server.

export type { CloseAction, CloseCodeValue } from './closeCodes'
export { CloseCode, closeAction } from './closeCodes'
export { decodeFrame, unbatch } from './decodeFrame'
export { encodeBatch, encodeFrame, writeFrame } from './encodeFrame'
export type * from './frames'
export { FrameTag } from './frames'
export type { ProtocolErrorCode } from './protocolError'
export { ProtocolError } from './protocolError'
export { encodeSized } from './sizedEncoder'
export { PROTOCOL_VERSION } from './version'
