/**
 * spindel core: signals, spins, execution contexts that fork in O(1).
 * @module
 */
export type { OnceSource, Waiter } from "./awaitable.js";
export { isOnceSource, WAIT } from "./awaitable.js";
export { batch } from "./batch.js";
export type { Clock, TimerHandle } from "./clock.js";
export { createClock } from "./clock.js";
export type { ContextOptions, ForkOptions, PrimitiveState, SpawnOptions } from "./context.js";
export {
  Context,
  cancel,
  createContext,
  defaultContext,
} from "./context.js";
export type { CoreErrorCode } from "./errors.js";
export { Cancelled, ContextDisposedError, isCancelled, SpindelError } from "./errors.js";
export { CBOR_OPTIONS, decodeCbor, encodeCbor } from "./persist/codec.js";
export { deserializeContext, restoreSnapshot } from "./persist/restore.js";
export type { ContextSnapshot } from "./persist/snapshot.js";
// Combinators, synchronization primitives, time, async iterable bridges (issue 3)
/** Combinators over spins and one-shot sources. */
export type { Results, ValueOf } from "./prims/combinators.js";
/** `parallel`, `race`, `first`, `attempt`, `absolve`. */
export { absolve, attempt, first, parallel, race } from "./prims/combinators.js";
/** Single-assignment values. */
export type { DeferredStatus } from "./prims/deferred.js";
/** `deferred<T>()`. */
export { Deferred, deferred } from "./prims/deferred.js";
/** Async iterable bridges. */
export type { IterSource } from "./prims/iterable.js";
/** `next(iterable)`, `toAsyncIterable(spin, ctx)`. */
export { next, toAsyncIterable } from "./prims/iterable.js";
/** FIFO mailboxes. */
export { Mailbox, mailbox } from "./prims/mailbox.js";
/** Options shared by `deferred`, `mailbox` and `semaphore`. */
export type { PrimitiveOptions } from "./prims/prim.js";
export { AmbiguousContextError } from "./prims/prim-home.js";
/** Semaphores. */
export type { Permit } from "./prims/semaphore.js";
/** `semaphore(n)`, `holding(sem, spin)`. */
export { holding, Semaphore, semaphore } from "./prims/semaphore.js";
/** Supervisors. */
export type { ChildSpec, RestartStrategy, SupervisorExit, SupervisorOptions } from "./prims/supervisor.js";
/** `supervisor(children, opts)`, `shutdown(sup)`. */
export { Supervisor, shutdown, supervisor } from "./prims/supervisor.js";
/** Time: one-shot delays, sleeps, timeouts and rate limiters. */
export { debounce, delay, never, sample, sleep, TimeoutError, throttle, timeout } from "./prims/timers.js";
export type { SignalOptions } from "./signal.js";
export { Signal, signal } from "./signal.js";
export type { Awaitable, Interval, SpinBody, SpinOptions, SpinScope } from "./spin.js";
export { Spin, spin } from "./spin.js";
