// Reference target, fan-out only: Syncline's server with the shorter document window
// (`documentFlushMs: 16`), next to the default in the same run, so the table shows what the
// option trades: busy-room latency against server CPU.
import { startServer as start } from './syncline.mjs'

export { transport } from './syncline.mjs'

export const label = 'Syncline, documentFlushMs 16 (reference)'

/** The Syncline target with a 16 ms document window. */
export const startServer = (options) => start(options, 16)
