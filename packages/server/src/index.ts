// @syncline/server: the Node server Syncline clients connect to. Everything public is
// re-exported here; the rest of src/ is internal.

export type { Bus } from './bus'
export { createServer, type ServerStats, type SynclineServer } from './createServer'
export { defaults } from './defaults'
export { createInProcessBus, type InProcessBusOptions } from './inProcessBus'
export type {
  Authenticate,
  AuthenticatedUser,
  AuthenticatePhase,
  AuthenticateRequest,
  Logger,
  RateLimitOptions,
  RoomAccess,
  ServerOptions,
} from './options'
