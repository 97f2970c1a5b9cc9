/**
 * spindel core: signals, spins, execution contexts that fork in O(1).
 * @module
 */
export type { OnceSource, Waiter } from "./awaitable.js";
export { isOnceSource, WAIT } from "./awaitable.js";
export { batch } from "./batch.js";
export type { Clock, TimerHandle } from "./clock.js";
export { createClock } from "./clock.js";
export { decodeCbor, encodeCbor } from "./codec.js";
export type { ContextOptions, ForkOptions, PrimitiveState, SpawnOptions } from "./context.js";
export { Context, cancel, createContext, defaultContext } from "./context.js";
export type { CoreErrorCode } from "./errors.js";
export { Cancelled, ContextDisposedError, isCancelled, SpindelError } from "./errors.js";
export type { SignalOptions } from "./signal.js";
export { Signal, signal } from "./signal.js";
export type { ContextSnapshot } from "./snapshot.js";
export { deserializeContext, restoreSnapshot } from "./snapshot.js";
export type { Awaitable, Interval, SpinBody, SpinOptions, SpinScope } from "./spin.js";
export { Spin, spin } from "./spin.js";
