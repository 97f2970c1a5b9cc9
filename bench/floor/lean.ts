/**
 * A toy kernel for bench/floor.bench.ts: the node is the body's scope and its log is updated in place. Each toy has its own copy of the shared parts
 * (cells, entries, staleness, drain) so that it is measured with monomorphic call sites, as a
 * kernel of its own would be. A measuring stick, not library code.
 * @module
 */
let version = 0;
const STALE = 1;
const QUEUED = 2;

/** A signal of the toy kernels. */
class ToyCell {
  version = 0;
  readonly observers: Observer[] = [];
  constructor(
    readonly id: string,
    public val: number,
  ) {}
}

/** A log entry of the toy kernels: the fields of the real kernel's entries. */
class ToyEntry {
  version = 0;
  value: unknown = undefined;
  ok = true;
  settled = true;
  consumed = false;
  undo: (() => void) | null = null;
  constructor(
    public kind: number,
    public id: string,
    public ref: ToyCell | Observer | null,
  ) {}
}

/** What staleness marking and the drain need of a node. */
interface Observer {
  flags: number;
  version: number;
  result: unknown;
  readonly id: string;
  readonly observers: Observer[];
  readonly observed: boolean;
  log: ToyEntry[];
  refresh(): void;
}

/** Shared by both toys: the log walk that finds the point of change. */
function toyChanged(log: readonly ToyEntry[]): boolean {
  for (let i = 0; i < log.length; i++) {
    const e = log[i]!;
    if (e.kind === 1) {
      if ((e.ref as ToyCell).version !== e.version) return true;
    } else {
      const c = e.ref as Observer;
      c.refresh();
      if (c.version !== e.version) return true;
    }
  }
  return false;
}

const queue: Observer[] = [];
function toyMarkStale(n: Observer): void {
  if ((n.flags & STALE) !== 0) return;
  n.flags |= STALE;
  if (n.observed && (n.flags & QUEUED) === 0) {
    n.flags |= QUEUED;
    queue.push(n);
  }
  for (const o of n.observers) toyMarkStale(o);
}
function toySet(c: ToyCell, v: number): void {
  if (c.val === v) return;
  c.val = v;
  c.version = ++version;
  for (const o of c.observers) toyMarkStale(o);
  for (let k = 0; k < queue.length; k++) {
    const n = queue[k]!;
    n.flags &= ~QUEUED;
    n.refresh();
  }
  queue.length = 0;
}

/** Toy 1: the node is the scope, its log is updated in place. */
class LeanNode implements Observer {
  flags = 0;
  status = 0;
  result: unknown = undefined;
  version = 0;
  log: ToyEntry[] = [];
  readonly observers: Observer[] = [];
  private i = 0;
  constructor(
    readonly id: string,
    private readonly body: ($: LeanNode) => unknown,
    readonly observed = false,
  ) {}
  track(src: ToyCell | LeanNode): number {
    const i = this.i++;
    let e = this.log[i];
    if (e === undefined || e.ref !== src) {
      e = new ToyEntry(src instanceof ToyCell ? 1 : 2, src.id, src);
      this.log[i] = e;
      src.observers.push(this);
    }
    if (src instanceof ToyCell) {
      e.version = src.version;
      e.value = src.val;
      return src.val;
    }
    src.refresh();
    e.version = src.version;
    e.value = src.result;
    return src.result as number;
  }
  refresh(): void {
    if (this.status !== 0 && (this.flags & STALE) === 0) return;
    this.flags &= ~STALE;
    if (this.status !== 0 && !toyChanged(this.log)) return;
    this.i = 0;
    const v = this.body(this);
    if (this.log.length !== this.i) this.log.length = this.i;
    if (this.status === 0 || !Object.is(v, this.result)) {
      this.status = 1;
      this.result = v;
      this.version = ++version;
    }
  }
}

let ids = 0;
/** A chain of `n` derived nodes over one cell and an observer of its tail; returns one write. */
export function chain(n: number, sink: (v: number) => void): () => void {
  const s = new ToyCell(`s${ids++}`, 0);
  let prev = new LeanNode(`n${ids++}`, ($) => $.track(s));
  for (let i = 1; i < n; i++) {
    const p0 = prev;
    prev = new LeanNode(`n${ids++}`, ($) => $.track(p0) + 1);
  }
  const tail = prev;
  new LeanNode(
    `n${ids++}`,
    ($) => {
      sink($.track(tail));
      return 0;
    },
    true,
  ).refresh();
  let k = 0;
  return () => toySet(s, ++k);
}
