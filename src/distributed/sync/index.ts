/**
 * Topics (owner, relay, handshake) and signal sync over a peer's links.
 * @module
 */
export type { Refusal } from "./authorize.js";
export type { TopicErrorCode } from "./errors.js";
export { isTopicError, TopicError } from "./errors.js";
export type { Stamp } from "./hlc.js";
export { compareStamps } from "./hlc.js";
export { OwnedTopic } from "./owner.js";
export type { SyncMode } from "./replica.js";
export type { SignalSyncHandle, SyncPeer, SyncSignalOptions } from "./signal-sync.js";
export { exportSignal, subscribeSignal, syncSignal } from "./signal-sync.js";
export type {
  AuthDecision,
  AuthorizePublish,
  AuthorizeSubscribe,
  NoTopicRetryOptions,
  OwnerStrategy,
  SubscriberStrategy,
  TopicOwnerOptions,
  TopicSubscribeOptions,
} from "./strategy.js";
export type { SubscriptionState } from "./subscriber.js";
export { Subscription } from "./subscriber.js";
export { TOPICS_PROTOCOL, Topics } from "./topics.js";
