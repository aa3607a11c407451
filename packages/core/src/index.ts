// @syncline/core: the client. Everything public is exported here and nowhere else.

export type { BackoffOptions } from './backoff'
export { backoffCap, backoffDelay } from './backoff'
export { createClient, SynclineClient } from './client'
export type { ClientEvents, ClientStatus, DroppedInfo, Failure } from './connection'
export * as defaults from './defaults'
export type { DocLink, DocSyncErrorStage, DocSyncOptions } from './docSync'
export { DocSync, remoteOrigin } from './docSync'
export type { Cleanup, Environment, EventTargetLike, PageEvent, SetupFn } from './environment'
export {
  browserOnlineSetup,
  browserPageSetup,
  browserVisibilitySetup,
  createEnvironment,
  OnlineManager,
  onlineManager,
  PageLifecycleManager,
  pageLifecycleManager,
  VisibilityManager,
  visibilityManager,
} from './environment'
export type { SynclineErrorCode } from './errors'
export { SynclineError } from './errors'
export type {
  CursorInterpolationMode,
  CursorInterpolator,
  CursorInterpolatorOptions,
} from './interpolator'
export { createCursorInterpolator } from './interpolator'
export type { Point } from './lerp'
export { lerp, lerpPoint } from './lerp'
export type { DropReason, OfflineQueueOptions, QueueEntry } from './offlineQueue'
export { OfflineQueue } from './offlineQueue'
export type {
  ClientOptions,
  JoinOptions,
  UrlOption,
  WebSocketConstructor,
  WebSocketLike,
} from './options'
export type { Peer, PeerConnection } from './presence'
export { selectOthers, shallow } from './presence'
export { connectionClientId } from './presenceAwareness'
export type {
  Presence,
  RoomError,
  RoomEventMessage,
  RoomEvents,
  RoomStatus,
  SyncGate,
} from './room'
export { Room } from './room'
export type { Throttled, ThrottleOptions } from './throttle'
export { throttle } from './throttle'
export type { UndoManager, UndoManagerOptions, UndoScope } from './undo'
export { createUndoManager } from './undo'
export type { WatchdogOptions } from './watchdog'
export { Watchdog } from './watchdog'
