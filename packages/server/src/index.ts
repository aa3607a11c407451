// @syncline/server: the Node server Syncline clients connect to. Everything public is
// re-exported here; the rest of src/ is internal.

export type { Bus } from './bus'
export { createServer, type ServerStats, type SynclineServer } from './createServer'
export { defaults } from './defaults'
export {
  createDocumentPersistence,
  DOCUMENT_PERSISTENCE_DEFAULTS,
  type DocumentPersistence,
  DocumentPersistenceError,
  type DocumentPersistenceErrorCode,
  type DocumentPersistenceOptions,
  loadDocument,
  mergeStoredDocument,
} from './documentPersistence'
export type { DocumentStore, StoredDocument } from './documentStore'
export { createInProcessBus, type InProcessBusOptions } from './inProcessBus'
export { createMemoryStore } from './memoryStore'
export type {
  Authenticate,
  AuthenticatedUser,
  AuthenticatePhase,
  AuthenticateRequest,
  Logger,
  PersistenceOptions,
  RateLimitOptions,
  RoomAccess,
  ServerOptions,
} from './options'
