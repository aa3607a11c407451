// Helpers shared by Syncline's tests.

export type {
  ContractYDoc,
  ContractYjs,
  ContractYText,
  DocumentStoreContractOptions,
} from './documentStoreContract'
export { describeDocumentStoreContract } from './documentStoreContract'
export type { ClientClose } from './fakeWebSocket'
export { createFakeServer, FakeServer, FakeSocket } from './fakeWebSocket'
export type {
  LiveClient,
  LiveHarness,
  LiveHarnessOptions,
  LiveServer,
} from './liveHarness'
export { createLiveHarness } from './liveHarness'
export { seededRandom, shuffled } from './random'
export { rawHttpRequest } from './rawHttp'
export type {
  RecordedClose,
  RecordedSocket,
  RecordingWebSocket,
} from './recordingWebSocket'
export { recordingWebSocket } from './recordingWebSocket'
export {
  chromiumArgs,
  chromiumPath,
  hasChromium,
  isPortOpen,
  serviceAvailable,
  servicesRequired,
} from './services'
export type { StoreCalls } from './spyStore'
export { spyStore } from './spyStore'
export type { SwitchableProxy } from './switchableProxy'
export { createSwitchableProxy } from './switchableProxy'
export type { ProxiedConnection, TcpProxy } from './tcpProxy'
export { createTcpProxy } from './tcpProxy'
export type { TestClose, TestMessage, TestSocket } from './testSocket'
export { openTestSocket, UpgradeRefusedError } from './testSocket'
export type {
  Deferred,
  EventRecorder,
  EventSource,
  Subscribable,
  ValueRecorder,
  WaitOptions,
} from './waitFor'
export {
  deferred,
  recordEvents,
  recordValues,
  waitForEqual,
  waitForEvent,
  waitForValue,
  withTimeout,
} from './waitFor'
export type { DocFingerprint } from './yjsDocs'
export {
  canonicalUpdate,
  docChanges,
  docFingerprint,
  fingerprintDifference,
  randomEdit,
  randomEditRoots,
} from './yjsDocs'
