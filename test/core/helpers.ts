/** Test helpers: a controllable promise and a one-shot source that counts how often it is waited on. */
import {
  type Context,
  createContext,
  type OnceSource,
  type Signal,
  type Spin,
  signal,
  spin,
  WAIT,
  type Waiter,
} from "spindel";

/** The two kinds of context every kernel law must hold in, for `describe.each`: a root and a fork. */
export const rootAndFork: [string, () => Context][] = [
  ["root", () => createContext()],
  ["fork", () => createContext().fork()],
];

/** A promise with its resolve/reject exposed. */
export interface Gate<T> {
  readonly promise: Promise<T>;
  resolve(v: T): void;
  reject(e: unknown): void;
}

/** Create a {@link Gate}. */
export function gate<T = void>(): Gate<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A one-shot source that hands out 1, 2, 3... and counts waits, hand-offs and abandoned waits. */
export class Ticket implements OnceSource<number> {
  waits = 0;
  handed = 0;
  abandoned = 0;
  pending: Waiter<number>[] = [];
  [WAIT](_ctx: Context, w: Waiter<number>): void {
    this.waits++;
    this.pending.push(w);
    w.onAbandon(() => {
      this.abandoned++;
      this.pending.splice(this.pending.indexOf(w), 1);
    });
  }
  /** Settle every pending wait with the next numbers. */
  release(): number {
    const ws = this.pending.splice(0);
    for (const w of ws) if (w.resolve(++this.handed)) continue;
    return ws.length;
  }
}

/** Resolve after all queued microtasks and one macrotask turn. */
export function tick(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/** The collector, when node runs with `--expose-gc` (the test config passes it). */
export const gc = (globalThis as { gc?: () => void }).gc;

/**
 * Collect and turn the event loop (finalization callbacks run on a turn) until `cond` holds, at
 * most 50 times; returns whether it holds.
 */
export async function collectUntil(cond: () => boolean): Promise<boolean> {
  for (let i = 0; i < 50 && !cond(); i++) {
    gc!();
    await tick();
  }
  return cond();
}

/** `p`'s outcome ("ok <value>" or the error's code), or "pending" if it has not settled within 50 turns. */
export async function outcome(p: Promise<unknown>): Promise<string> {
  let out = "pending";
  p.then(
    (v) => {
      out = `ok ${String(v)}`;
    },
    (e: unknown) => {
      out = (e as { code?: string }).code ?? String(e);
    },
  );
  for (let i = 0; i < 50 && out === "pending"; i++) await new Promise((r) => setImmediate(r));
  return out;
}

/**
 * `child` awaits `n` once `s` is set (after another await when `gap`), and `n` awaits `child`: an
 * await cycle that forms across runs, `n`'s committed log reading `child`.
 */
export function acrossRuns(gap: boolean): { s: Signal<number>; child: Spin<number>; n: Spin<number> } {
  const s = signal(0);
  const box: { n: Spin<number> | null } = { n: null };
  const child = spin(
    async ($) => {
      const v = $.track(s);
      if (v === 0) return v;
      if (gap) await $.await(Promise.resolve(0));
      return (await $.await(box.n!)) + v;
    },
    { name: "child" },
  );
  const n = spin(async ($) => (await $.await(child)) + 1, { name: "n" });
  box.n = n;
  return { s, child, n };
}
