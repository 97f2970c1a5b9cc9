/**
 * A toy kernel for bench/floor.bench.ts: a separate run scope, reset every run, and a double-buffered log, as the real kernel lays them out. Each toy has its own copy of the shared parts
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

/** Toy 2's scope: one per node, reset for every run, writing into the node's spare log. */
class ToyRun {
  buf: ToyEntry[] = [];
  i = 0;
  same = 0;
  once = false;
  seen: ToyEntry[] | null = null;
  ordinal = 0;
  dead: Error | null = null;
  parks: unknown[] | null = null;
  busy = false;
  onSettled: (() => void) | null = null;
  ac: AbortController | null = null;
  epoch = 0;
  shadowGen = 0;
  cleanups: (() => void)[] | null = null;
  outer: ToyRun | null = null;
  replay: ToyEntry[] | null = null;
  replayUntil = 0;
  constructor(readonly node: RunNode) {}
  reset(buf: ToyEntry[]): void {
    this.buf = buf;
    this.i = 0;
    this.same = 0;
    this.once = false;
    this.seen = null;
    this.ordinal = 0;
    this.dead = null;
    this.parks = null;
    this.busy = false;
    this.onSettled = null;
    this.ac = null;
    this.epoch = version;
    this.shadowGen = 0;
    this.cleanups = null;
    this.outer = null;
    this.replay = null;
    this.replayUntil = 0;
  }
  private slot(i: number, kind: number, id: string): ToyEntry {
    const buf = this.buf;
    if (i >= buf.length) {
      const fresh = new ToyEntry(kind, id, null);
      buf.push(fresh);
      return fresh;
    }
    const e = buf[i]!;
    e.kind = kind;
    e.id = id;
    e.ok = true;
    e.consumed = false;
    e.undo = null;
    return e;
  }
  track(src: ToyCell | RunNode): number {
    if (this.dead !== null) throw this.dead;
    const i = this.i++;
    const node = this.node;
    const prev = node.log[i];
    if (prev !== undefined && prev.ref === src && prev.id === src.id) this.same++;
    else src.observers.push(node);
    const e = this.slot(i, src instanceof ToyCell ? 1 : 2, src.id);
    if (src instanceof ToyCell) {
      e.version = src.version;
      e.value = src.val;
      e.ref = src;
      e.settled = true;
      return src.val;
    }
    e.version = 0;
    e.value = undefined;
    e.settled = false;
    e.ref = src;
    src.refresh();
    e.version = src.version;
    e.value = src.result;
    e.settled = true;
    return src.result as number;
  }
  get log(): ToyEntry[] {
    if (this.buf.length !== this.i) this.buf.length = this.i;
    return this.buf;
  }
}

/** Toy 2: a separate run scope and a double-buffered log, as the real kernel lays them out. */
class RunNode implements Observer {
  flags = 0;
  status = 0;
  result: unknown = undefined;
  version = 0;
  log: ToyEntry[] = [];
  private spareLog: ToyEntry[] = [];
  private spare: ToyRun | null = null;
  readonly observers: Observer[] = [];
  constructor(
    readonly id: string,
    private readonly body: ($: ToyRun) => unknown,
    readonly observed = false,
  ) {}
  refresh(): void {
    if (this.status !== 0 && (this.flags & STALE) === 0) return;
    this.flags &= ~STALE;
    if (this.status !== 0 && !toyChanged(this.log)) return;
    const run = this.spare ?? new ToyRun(this);
    this.spare = null;
    run.reset(this.spareLog);
    const v = this.body(run);
    this.spareLog = this.log;
    this.log = run.log;
    this.spare = run;
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
  let prev = new RunNode(`n${ids++}`, ($) => $.track(s));
  for (let i = 1; i < n; i++) {
    const p0 = prev;
    prev = new RunNode(`n${ids++}`, ($) => $.track(p0) + 1);
  }
  const tail = prev;
  new RunNode(
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
