/**
 * `mailbox<T>()`: a FIFO queue of messages; each `$.await(mb)` receives exactly one. State lives
 * per context (a fork has its own copy of the queue).
 * @module
 */
import { type OnceSource, WAIT, type Waiter } from "../awaitable.js";
import type { Context, PrimitiveState } from "../context.js";
import { primitiveId, type Revivable, registerPrimitive, type SerializableState } from "../registry.js";
import { adoptInherited, contextFor, Deque, type PrimitiveOptions, QueuedWaits } from "./prim.js";
import { checkImplicitDelivery, noteAwaited } from "./prim-home.js";

/** A queued message with its posting order (a message handed back returns to its place). */
interface Msg {
  readonly seq: number;
  readonly v: unknown;
}

class MailboxState extends QueuedWaits<unknown> implements SerializableState {
  readonly queue: Deque<Msg>;
  seq = 0;

  constructor(
    readonly id: string,
    queue?: Deque<Msg>,
  ) {
    super();
    this.queue = queue ?? new Deque();
  }

  forked(): MailboxState {
    const s = new MailboxState(this.id, this.queue.clone());
    s.seq = this.seq;
    return this.inheritWaits(s);
  }

  serialize(): { id: string; data: unknown } {
    return {
      id: this.id,
      data: {
        queue: this.queue.toArray().map((m) => m.v),
        waiting: this.waitingIds(),
      },
    };
  }

  /** Hand queued messages to live waiters, oldest first. */
  dispatch(): void {
    const q = this.queue;
    const ws = this.waiters;
    while (q.length > 0 && ws.length > 0) {
      const w = ws.shift()!;
      if (!w.alive) continue;
      this.handOff(w, q.shift()!);
    }
  }

  /** Append a message. */
  push(v: unknown): void {
    this.queue.push({ seq: ++this.seq, v });
  }

  /** Give `msg` to `w`; if `w`'s run dies before its body continued, the message returns to its place. */
  handOff(w: Waiter<unknown>, msg: Msg): boolean {
    if (w.resolve(msg.v, () => this.requeue(msg))) return true;
    this.queue.unshift(msg);
    return false;
  }

  private requeue(msg: Msg): void {
    this.queue.putBack(msg, (m) => m.seq > msg.seq);
    this.dispatch();
  }
}

/**
 * A FIFO mailbox. `mb.post(msg)` appends a message; `$.await(mb)` in a spin receives the oldest
 * one (waiting if there is none). Each message goes to exactly one live waiter, in the order the
 * waiters arrived; a cancelled or superseded waiter never takes a message, and a message handed to a
 * run that dies before its body continued goes back to the head of the queue.
 *
 * ```ts
 * const inbox = mailbox<string>();
 * const worker = spin(async ($) => `handled ${await $.await(inbox)}`);
 * const p = ctx.value(worker);
 * inbox.post("job-1", ctx);
 * await p; // "handled job-1"
 * ```
 *
 * A message is consumed once the body continued past `$.await(mb)`; a run cancelled in the instant
 * between the hand-off and that point gives it back, so do side effects through `$` (which throws
 * in a dead run) or check `$.signal.aborted` first.
 */
export class Mailbox<T> implements OnceSource<T>, Revivable {
  /** Stable id (the `key` option or a process-local counter). */
  readonly id: string;
  /** Debug name. */
  readonly name: string | undefined;

  /** Use {@link mailbox}. @param opts options */
  constructor(opts?: PrimitiveOptions) {
    this.id = primitiveId("mailbox", opts?.key);
    this.name = opts?.name;
    registerPrimitive(this);
  }

  private state(ctx: Context): MailboxState {
    return ctx._state(this, () => new MailboxState(this.id));
  }

  /** Append `msg` in `ctx` (default: the current context); the oldest live waiter receives it. */
  post(msg: T, ctx?: Context): void {
    checkImplicitDelivery(this, ctx, "post to a mailbox", String(this));
    const c = contextFor(ctx, "post to a mailbox");
    const st = this.state(c);
    adoptInherited(c, st);
    st.push(msg);
    st.dispatch();
  }

  /** Number of messages queued in `ctx` (not yet received). */
  size(ctx?: Context): number {
    return this.state(contextFor(ctx, "read a mailbox")).queue.length;
  }

  /** The queued messages in `ctx`, oldest first (a copy). */
  messages(ctx?: Context): T[] {
    return this.state(contextFor(ctx, "read a mailbox"))
      .queue.toArray()
      .map((m) => m.v as T);
  }

  /** Number of spins waiting in `ctx`. */
  waiting(ctx?: Context): number {
    let k = 0;
    for (const w of this.state(contextFor(ctx, "read a mailbox")).waiters.toArray()) if (w.alive) k++;
    return k;
  }

  /** The one-shot wait behind `$.await(mailbox)`: receive one message (the `OnceSource` protocol). */
  [WAIT](ctx: Context, waiter: Waiter<T>): void {
    noteAwaited(this, ctx);
    const st = this.state(ctx);
    const w = waiter as Waiter<unknown>;
    if (st.queue.length > 0) {
      st.handOff(w, st.queue.shift()!);
      return;
    }
    st.waiters.push(w);
    waiter.onAbandon(() => {
      st.waiters.remove(w);
    });
  }

  /** @internal state rebuilt from serialized data */
  _revive(data: unknown): PrimitiveState {
    const d = data as { queue: unknown[]; waiting?: string[] };
    const s = new MailboxState(this.id);
    for (const m of d.queue) s.push(m);
    if (Array.isArray(d.waiting) && d.waiting.length > 0) s.inherited = d.waiting.slice();
    return s;
  }

  /** Debug representation. */
  toString(): string {
    return `Mailbox(${this.name ?? this.id})`;
  }
}

/** Create a FIFO {@link Mailbox}: `mb.post(msg)` to send, `$.await(mb)` to receive one message. */
export function mailbox<T>(opts?: PrimitiveOptions): Mailbox<T> {
  return new Mailbox<T>(opts);
}
