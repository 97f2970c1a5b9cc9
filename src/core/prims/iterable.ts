/**
 * Async iterable bridges: `$.await(next(iterable))` takes the next item of an async iterable inside
 * a spin; `toAsyncIterable(spin, ctx)` yields each new result of a spin.
 * @module
 */
import { type OnceSource, WAIT, type Waiter } from "../awaitable.js";
import type { Context, PrimitiveState } from "../context.js";
import { invalidArgument } from "../errors.js";
import type { SerializableState } from "../registry.js";
import { Spin } from "../spin.js";
import { contextFor, Deque } from "./prim.js";

/** What {@link next} accepts: an async iterable or iterator (sync iterables work too). */
export type IterSource<T> = AsyncIterable<T> | AsyncIterator<T> | Iterable<T>;

function iteratorOf<T>(src: IterSource<T>): AsyncIterator<T> | Iterator<T> {
  const s = src as {
    [Symbol.asyncIterator]?: () => AsyncIterator<T>;
    [Symbol.iterator]?: () => Iterator<T>;
    next?: unknown;
  };
  if (typeof s[Symbol.asyncIterator] === "function") return s[Symbol.asyncIterator]!();
  if (typeof s.next === "function") return src as AsyncIterator<T>;
  if (typeof s[Symbol.iterator] === "function") return s[Symbol.iterator]!();
  return invalidArgument("next expects an async iterable or iterator");
}

/** Pulls items one at a time for the waiting spins; an item never goes to a dead waiter and is never lost. */
class Puller<T> implements OnceSource<IteratorResult<T>> {
  private it: AsyncIterator<T> | Iterator<T> | null = null;
  private readonly buffer = new Deque<{ readonly seq: number; readonly r: IteratorResult<T> }>();
  private seq = 0;
  private readonly waiters = new Deque<Waiter<IteratorResult<T>>>();
  private pulling = false;
  private failed: { readonly e: unknown } | null = null;
  private finished: IteratorResult<T> | null = null;

  constructor(private readonly source: IterSource<T>) {}

  [WAIT](_ctx: Context, w: Waiter<IteratorResult<T>>): void {
    if (this.buffer.length > 0) {
      this.handOff(w, this.buffer.shift()!);
      return;
    }
    if (this.failed !== null) {
      w.reject(this.failed.e);
      return;
    }
    if (this.finished !== null) {
      w.resolve(this.finished);
      return;
    }
    this.waiters.push(w);
    w.onAbandon(() => {
      this.waiters.remove(w);
    });
    this.pull();
  }

  private handOff(
    w: Waiter<IteratorResult<T>>,
    item: { readonly seq: number; readonly r: IteratorResult<T> },
  ): void {
    const ok = w.resolve(item.r, () => {
      this.buffer.putBack(item, (x) => x.seq > item.seq);
      this.dispatch();
    });
    if (!ok) this.buffer.unshift(item);
  }

  private liveWaiter(): boolean {
    for (const w of this.waiters.toArray()) if (w.alive) return true;
    return false;
  }

  private pull(): void {
    if (this.pulling || this.finished !== null || this.failed !== null || !this.liveWaiter()) return;
    this.pulling = true;
    let p: unknown;
    try {
      this.it ??= iteratorOf(this.source);
      p = this.it.next();
    } catch (e) {
      this.pulling = false;
      this.fail(e);
      return;
    }
    Promise.resolve(p as IteratorResult<T> | PromiseLike<IteratorResult<T>>).then(
      (r) => {
        this.pulling = false;
        if (r === null || typeof r !== "object") {
          this.fail(new TypeError(`iterator result ${String(r)} is not an object`));
          return;
        }
        if (r.done === true) this.finished = r;
        else this.buffer.push({ seq: ++this.seq, r });
        this.dispatch();
      },
      (e) => {
        this.pulling = false;
        this.fail(e);
      },
    );
  }

  private dispatch(): void {
    const ws = this.waiters;
    while (this.buffer.length > 0 && ws.length > 0) {
      const w = ws.shift()!;
      if (w.alive) this.handOff(w, this.buffer.shift()!);
    }
    if (ws.length === 0) return;
    if (this.buffer.length === 0 && this.finished !== null) {
      const done = this.finished;
      for (const w of ws.toArray()) w.resolve(done);
      ws.clear();
      return;
    }
    this.pull();
  }

  private fail(e: unknown): void {
    this.failed = { e };
    const ws = this.waiters.toArray();
    this.waiters.clear();
    for (const w of ws) w.reject(e);
  }
}

const pullers = new WeakMap<object, Puller<unknown>>();

/**
 * A one-shot source for `$.await(next(iterable))`: the next item of an async iterable (or
 * iterator), as an `IteratorResult` (`{ done: true }` at the end). One iterator is shared by every
 * `next(sameIterable)`; each item goes to exactly one waiting spin, and an item fetched for a spin
 * that was cancelled meanwhile is kept for the next one. A re-run replays items it already took.
 * The iterator is an outside resource: it is not copied into forks.
 *
 * ```ts
 * const lines = spin(async ($) => {
 *   const first = await $.await(next(stream));
 *   return first.done ? null : first.value;
 * });
 * ```
 */
export function next<T>(source: IterSource<T>): OnceSource<IteratorResult<T>> {
  if (source === null || (typeof source !== "object" && typeof source !== "function"))
    invalidArgument(`next expects an async iterable or iterator, got ${String(source)}`);
  let p = pullers.get(source as object);
  if (p === undefined) {
    p = new Puller(source as IterSource<unknown>);
    pullers.set(source as object, p);
  }
  return p as unknown as OnceSource<IteratorResult<T>>;
}

type Outcome<T> = { readonly ok: true; readonly v: T } | { readonly ok: false; readonly e: unknown };

/** Registration of a live spin iterator in its context, so disposing the context ends it. */
class IterState implements PrimitiveState, SerializableState {
  constructor(private readonly end: () => void) {}
  forked(): PrimitiveState {
    return new IterState(() => {});
  }
  snapshot(): PrimitiveState {
    return new IterState(() => {});
  }
  dispose(): void {
    this.end();
  }
  serialize(): undefined {
    return undefined;
  }
}

class SpinIterator<T> implements AsyncIterableIterator<T> {
  private readonly queue = new Deque<Outcome<T>>();
  private waiting: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | null = null;
  private ended = false;
  private stop: (() => void) | null = null;

  constructor(
    s: Spin<T>,
    private readonly ctx: Context,
  ) {
    ctx._state(this, () => new IterState(() => this.end()));
    this.stop = ctx.observe(
      s,
      (v) => this.push({ ok: true, v }),
      (e) => this.push({ ok: false, e }),
    );
  }

  private push(o: Outcome<T>): void {
    if (this.ended) return;
    const w = this.waiting;
    if (w === null) {
      this.queue.push(o);
      return;
    }
    this.waiting = null;
    if (o.ok) w.resolve({ done: false, value: o.v });
    else {
      this.end();
      w.reject(o.e);
    }
  }

  next(): Promise<IteratorResult<T>> {
    const o = this.queue.shift();
    if (o !== undefined) {
      if (o.ok) return Promise.resolve({ done: false, value: o.v });
      this.end();
      return Promise.reject(o.e);
    }
    if (this.ended) return Promise.resolve({ done: true, value: undefined });
    if (this.waiting !== null)
      return Promise.reject(new TypeError("toAsyncIterable: next() called while another is pending"));
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.end();
    return Promise.resolve({ done: true, value: undefined });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  /** Stop observing; a pending `next()` resolves `{ done: true }`. */
  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.queue.clear();
    const stop = this.stop;
    this.stop = null;
    stop?.();
    this.ctx.states.delete(this);
    const w = this.waiting;
    this.waiting = null;
    w?.resolve({ done: true, value: undefined });
  }
}

/**
 * An async iterable over the results of `s` in `ctx` (default: the current context): the current
 * result first, then each new one. The spin is kept live (observed) while iterating; breaking out of
 * the loop, an error result (thrown from the loop) or disposing the context ends it.
 *
 * ```ts
 * for await (const v of toAsyncIterable(total, ctx)) console.log(v);
 * ```
 */
export function toAsyncIterable<T>(s: Spin<T>, ctx?: Context): AsyncIterable<T> {
  if (!(s instanceof Spin)) invalidArgument(`toAsyncIterable expects a Spin, got ${String(s)}`);
  const c = contextFor(ctx, "iterate a spin");
  return {
    [Symbol.asyncIterator]: (): AsyncIterableIterator<T> => new SpinIterator(s, c),
  };
}
