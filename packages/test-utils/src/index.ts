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
export { seededRandom, shuffled } from './random'
export { rawHttpRequest } from './rawHttp'
export {
  chromiumArgs,
  chromiumPath,
  hasChromium,
  isPortOpen,
  serviceAvailable,
  servicesRequired,
} from './services'
export type { ProxiedConnection, TcpProxy } from './tcpProxy'
export { createTcpProxy } from './tcpProxy'
export type { TestClose, TestMessage, TestSocket } from './testSocket'
export { openTestSocket, UpgradeRefusedError } from './testSocket'
