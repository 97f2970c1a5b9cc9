/**
 * The public surface of `spindel/distributed`, shared by its Node entry (`index.ts`) and its
 * browser entry (`browser.ts`), which differ only in the transport they install.
 * @module
 */

/** Bridge: each new result of a spin in a context, as an async iterable (implemented in the core). */
export { toAsyncIterable } from "../core/prims/iterable.js";
export { promiseToSpin, spinToPromise } from "./bridges.js";
export type { CallOptions } from "./call.js";
export { ContextRegistry, DEFAULT_CONTEXT_ID } from "./contexts.js";
export type { RemoteErrorCode, RemoteErrorDetail } from "./errors.js";
export { isRemoteError, isRemoteErrorCode, RemoteError } from "./errors.js";
export type { WireLimits } from "./limits.js";
export { DEFAULT_LIMITS } from "./limits.js";
export type {
  AcceptedLink,
  DialLinkOptions,
  Link,
  LinkEvents,
  LinkServer,
  LinkTransport,
  ListenLinkOptions,
} from "./net/link.js";
// the Node HTTP shapes the public types mention, structurally (no @types/node or @types/ws needed)
export type { AttachableServer, UpgradeRequest } from "./net/link-socket.js";
export type { ProtocolHandler, ProtocolHost, ProtocolLink } from "./peer/protocols.js";
export type {
  AuthenticateHook,
  DialOptions,
  HelloInfo,
  ListeningPeer,
  ListenOptions,
  PeerConnectOptions,
  PeerListenOptions,
  PeerOptions,
  PeerStatus,
  ReconnectOptions,
} from "./peer.js";
export { Peer, RemoteScope } from "./peer.js";
export type { RemoteBody, SpinRemote } from "./remote-fn.js";
export {
  isRemoteFn,
  remoteFn,
  SpinRemoteOutsideRemoteFnError,
  spinRemote,
  TransformNotConfiguredError,
} from "./remote-fn.js";
export type { RemoteDefinition, RemoteRegistryErrorCode, RemoteTarget, Scope } from "./remote-registry.js";
export {
  invokeRemote,
  lookupRemote,
  RemoteRegistryError,
  registeredRemoteIds,
  registerRemote,
} from "./remote-registry.js";
export type { AuthorizeHook } from "./serve.js";
// The replikativ stage (src/distributed/stage)
export type {
  Address,
  AssocRecord,
  AtomicWrites,
  DissocRecord,
  EvalFn,
  IdentityStream,
  Op,
  OpenOptions,
  OpMapDelta,
  StageCDVCS,
  StageConnectOptions,
  StageErrorCode,
  StageKind,
  StageOptions,
  StageORMap,
  StagePeer,
  StageValue,
  StoreWrite,
  StreamOptions,
} from "./stage/index.js";
export { atomicWrites, createStage, OpMap, Stage, StageError, streamIntoIdentity } from "./stage/index.js";
// Stores and their replication (src/distributed/store)
export { indexedDbBackend, indexedDbStore } from "./store/adapters/indexeddb.js";
export { memoryBackend, memoryStore } from "./store/adapters/memory.js";
export { canonicalCbor, contentAddress } from "./store/canonical.js";
export { putContent } from "./store/content.js";
export type { StoreErrorCode } from "./store/errors.js";
export { StoreError } from "./store/errors.js";
export type {
  BackendOp,
  KeyInfo,
  KeyMeta,
  KVStore,
  PutEntry,
  PutOptions,
  StoreBackend,
  StoreOp,
  StoreOptions,
  WriteEvent,
  WriteHook,
} from "./store/kv.js";
export { createStore } from "./store/kv.js";
export type {
  ExportStoreOptions,
  StoreExport,
  StoreSubscription,
  SubscribeStoreOptions,
} from "./store/sync.js";
export { exportStore, subscribeStore } from "./store/sync.js";
// Signal sync and topics (src/distributed/sync)
export type {
  AuthDecision,
  AuthorizePublish,
  AuthorizeSubscribe,
  NoTopicRetryOptions,
  OwnerStrategy,
  SignalSyncHandle,
  Stamp,
  SubscriberStrategy,
  SubscriptionState,
  SyncMode,
  SyncPeer,
  SyncSignalOptions,
  TopicErrorCode,
  TopicOwnerOptions,
  TopicSubscribeOptions,
} from "./sync/index.js";
export {
  compareStamps,
  exportSignal,
  isTopicError,
  OwnedTopic,
  Subscription,
  subscribeSignal,
  syncSignal,
  TOPICS_PROTOCOL,
  TopicError,
  Topics,
} from "./sync/index.js";
export { PROTOCOL_VERSION } from "./wire.js";
// Workspaces (src/distributed/workspace)
export * from "./workspace/index.js";
