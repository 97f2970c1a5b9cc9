/**
 * The in-memory adapter: links between endpoints of one {@link SimNetwork}, a deterministic network
 * for tests and simulation. Every message, open and close goes through one queue ordered by due
 * time then by sequence number, so a run depends only on the seed, the fault settings and what the
 * endpoints send. Faults (all off by default, all drawn from the seeded PRNG): latency, drops,
 * duplicates, reordering, partitions, and crashes (every link of an address dropped, its listener
 * gone until something listens there again: a restart).
 *
 * A WebSocket never drops, duplicates or reorders within a link; with those faults on, the link
 * behaves like an unreliable datagram path, which is what protocol fuzzing wants.
 * @module
 */
import { type Clock, createClock, type TimerHandle } from "../../../core/clock.js";
import { RemoteError } from "../../errors.js";
import { seededRandom } from "../../random.js";
import type {
  DialLinkOptions,
  Link,
  LinkEvents,
  LinkServer,
  LinkTransport,
  ListenLinkOptions,
} from "../link.js";

/** Fault settings of a {@link SimNetwork} (probabilities in [0, 1], delays in ms). */
export interface SimFaults {
  /** Shortest delivery delay (default 0). */
  minDelayMs?: number;
  /** Longest delivery delay (default `minDelayMs`). */
  maxDelayMs?: number;
  /** Probability that a message is lost (default 0). */
  dropRate?: number;
  /** Probability that a message is delivered twice (default 0). */
  duplicateRate?: number;
  /** Probability that a message may overtake earlier ones (default 0: FIFO per direction). */
  reorderRate?: number;
}

/** What a {@link SimFilter} decides for one message. */
export type SimVerdict = "deliver" | "drop" | "duplicate" | { delayMs: number };

/** One message in flight, as a {@link SimFilter} sees it. */
export interface SimMessage {
  /** Sender address. */
  readonly from: string;
  /** Receiver address. */
  readonly to: string;
  /** The bytes. */
  readonly bytes: Uint8Array;
}

/** A hook deciding a message's fate before the random faults (return undefined: no opinion). */
export type SimFilter = (message: SimMessage) => SimVerdict | undefined;

/** {@link SimNetwork} options. */
export interface SimNetworkOptions extends SimFaults {
  /** PRNG seed (default 1). */
  seed?: number;
  /** Time source (default: a real clock; pass a virtual one to step time by hand). */
  clock?: Clock;
}

/** Counters of a {@link SimNetwork}. */
export interface SimStats {
  /** Messages sent. */
  sent: number;
  /** Messages delivered (duplicates count twice). */
  delivered: number;
  /** Messages lost (faults, partitions, filters). */
  dropped: number;
  /** Messages delivered twice. */
  duplicated: number;
  /** Links opened. */
  links: number;
}

export { seededRandom };

interface Event {
  at: number;
  seq: number;
  run: () => void;
}

/** One end of an in-memory link. */
export class MemoryLink implements Link {
  /** The other end. */
  peer!: MemoryLink;
  private events: LinkEvents | null = null;
  private backlog: (() => void)[] = [];
  private state: number;
  readonly canPing = false;
  readonly bufferedAmount = 0;

  /**
   * Use {@link SimNetwork.pair} or a transport's `dial`.
   * @param net the network
   * @param address this end's address
   * @param maxPayload largest message this end accepts
   * @param open whether it starts open
   */
  constructor(
    readonly net: SimNetwork,
    readonly address: string,
    readonly maxPayload: number,
    open: boolean,
  ) {
    this.state = open ? 1 : 0;
  }

  get readyState(): number {
    return this.state;
  }

  start(events: LinkEvents): void {
    this.events = events;
    const b = this.backlog;
    this.backlog = [];
    for (const fn of b) fn();
  }

  private emit(fn: (e: LinkEvents) => void): void {
    if (this.events === null) this.backlog.push(() => fn(this.events!));
    else fn(this.events);
  }

  /** @internal the dial completed */
  _opened(): void {
    if (this.state !== 0) return;
    this.state = 1;
    this.emit((e) => e.open());
  }

  /** @internal a message arrived */
  _receive(bytes: Uint8Array): void {
    if (this.state !== 1) return;
    if (bytes.length > this.maxPayload) {
      this.net._closeBoth(this, 1009, "Max payload size exceeded");
      return;
    }
    this.emit((e) => e.message(bytes));
  }

  /** @internal a dial that failed: an error, then close 1006 */
  _closedWith(reason: string): void {
    if (this.state === 3) return;
    this.emit((e) => e.error(new Error(reason)));
    this._closed(1006, reason);
  }

  /** @internal closed (once) */
  _closed(code: number, reason: string): void {
    if (this.state === 3) return;
    this.state = 3;
    this.emit((e) => e.close(code, reason));
  }

  send(bytes: Uint8Array): void {
    if (this.state !== 1) return;
    this.net._send(this, bytes.slice());
  }

  flush(): void {}

  ping(): void {}

  close(code: number, reason: string): void {
    if (this.state >= 2) return;
    if (this.state === 0) {
      this.terminate();
      return;
    }
    this.state = 2;
    this.net._closeBoth(this, code, reason);
  }

  terminate(): void {
    if (this.state === 3) return;
    this.state = 2;
    this.net._closeLocal(this, 1006, "");
    this.net._closeRemote(this.peer, 1006, "");
  }
}

interface SimListener {
  readonly address: string;
  readonly path: string;
  readonly opts: ListenLinkOptions;
}

/**
 * A deterministic in-memory network. Give its {@link SimNetwork.transport} to peers
 * (`new Peer({ id, transport: net.transport })`); a peer listening on it is reached at
 * `mem://<its id>`.
 */
export class SimNetwork {
  /** Counters. */
  readonly stats: SimStats = { sent: 0, delivered: 0, dropped: 0, duplicated: 0, links: 0 };
  /** The transport to give peers. */
  readonly transport: LinkTransport;
  /** The clock deliveries are scheduled on. */
  readonly clock: Clock;
  private readonly random: () => number;
  private faults: Required<SimFaults>;
  private filter: SimFilter | null = null;
  private readonly queue: Event[] = [];
  private seq = 0;
  private timer: TimerHandle | null = null;
  private timerAt = Number.POSITIVE_INFINITY;
  private readonly listeners = new Map<string, SimListener>();
  private readonly lastAt = new WeakMap<MemoryLink, number>();
  private readonly live = new Set<MemoryLink>();
  private cut: { a: Set<string>; b: Set<string> }[] = [];
  private idleWaiters: (() => void)[] = [];

  /** @param opts seed, faults, clock */
  constructor(opts: SimNetworkOptions = {}) {
    this.random = seededRandom(opts.seed ?? 1);
    this.clock = opts.clock ?? createClock("real");
    this.faults = resolveFaults(opts);
    this.transport = {
      name: "memory",
      accepts: (url) => url.startsWith("mem://"),
      dial: (url, o) => this.dial(url, o),
      listen: (o) => this.listen(o),
    };
  }

  /** A uniform draw in [0, 1) from the network's seeded PRNG (for tests that want more randomness from one seed). */
  next(): number {
    return this.random();
  }

  /** Change the fault settings (unset fields go back to their defaults). */
  setFaults(f: SimFaults): void {
    this.faults = resolveFaults(f);
  }

  /** Decide messages by hand before the random faults (null: remove). */
  setFilter(filter: SimFilter | null): void {
    this.filter = filter;
  }

  /** Cut every message between the addresses of `a` and those of `b` (both directions) until {@link heal}. */
  partition(a: readonly string[], b: readonly string[]): void {
    this.cut.push({ a: new Set(a), b: new Set(b) });
  }

  /** Remove every partition. */
  heal(): void {
    this.cut = [];
  }

  /** Whether messages between `x` and `y` are cut. */
  isPartitioned(x: string, y: string): boolean {
    for (const { a, b } of this.cut) if ((a.has(x) && b.has(y)) || (a.has(y) && b.has(x))) return true;
    return false;
  }

  /**
   * Crash an address: every link with an end there is dropped (1006 at both ends) and its listener
   * is gone. Listening on the address again is the restart. Returns how many links were dropped.
   */
  crash(address: string): number {
    this.listeners.delete(address);
    let n = 0;
    for (const l of [...this.live]) {
      if (l.address !== address) continue;
      n++;
      this._closeLocal(l, 1006, "crashed");
      this._closeLocal(l.peer, 1006, "connection lost");
    }
    return n;
  }

  /** Two ends of a fresh open link between addresses `a` and `b` (the link conformance suite uses this). */
  pair(a = "a", b = "b", maxPayload = 64 * 1024 * 1024): [MemoryLink, MemoryLink] {
    const x = new MemoryLink(this, a, maxPayload, true);
    const y = new MemoryLink(this, b, maxPayload, true);
    x.peer = y;
    y.peer = x;
    this.live.add(x);
    this.live.add(y);
    this.stats.links++;
    return [x, y];
  }

  /** Events waiting in the queue. */
  get pending(): number {
    return this.queue.length;
  }

  /** Resolves once the queue is empty (real clock; with a virtual clock, advance it instead). */
  idle(): Promise<void> {
    if (this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private dial(url: string, o: DialLinkOptions): Link {
    const { address, path } = parseMemUrl(url);
    const local = o.localId ?? `client-${this.stats.links + 1}`;
    const x = new MemoryLink(this, local, o.maxPayload, false);
    const listener = this.listeners.get(address);
    if (listener === undefined || listener.path !== path || this.isPartitioned(local, address)) {
      const why =
        listener === undefined
          ? `nothing listens at ${url}`
          : listener.path !== path
            ? `no endpoint at path ${path || "/"} of ${address}`
            : `${address} is unreachable (partition)`;
      this.enqueue(0, () => {
        x._closedWith(why);
      });
      x.peer = x;
      return x;
    }
    const y = new MemoryLink(this, address, listener.opts.maxPayload, true);
    x.peer = y;
    y.peer = x;
    this.stats.links++;
    this.live.add(x);
    this.live.add(y);
    this.enqueue(this.delay(), () => {
      if (this.listeners.get(address) !== listener || x.readyState !== 0) {
        x._closedWith(`nothing listens at ${url}`);
        this.live.delete(x);
        this.live.delete(y);
        return;
      }
      listener.opts.accept({ link: y, request: undefined });
      this.enqueue(this.delay(), () => x._opened());
    });
    return x;
  }

  private async listen(o: ListenLinkOptions): Promise<LinkServer> {
    // the address is the peer's id (host and port mean nothing here)
    const address = o.peerId;
    if (this.listeners.has(address))
      throw new RemoteError("ERR_UNAVAILABLE", `cannot listen on mem://${address}: address in use`);
    const l: SimListener = { address, path: o.path ?? "", opts: o };
    this.listeners.set(address, l);
    const net = this;
    return {
      url: `mem://${address}${l.path}`,
      async close() {
        if (net.listeners.get(address) === l) net.listeners.delete(address);
      },
    };
  }

  private delay(): number {
    const { minDelayMs, maxDelayMs } = this.faults;
    return maxDelayMs > minDelayMs ? minDelayMs + this.random() * (maxDelayMs - minDelayMs) : minDelayMs;
  }

  /** @internal one message from `from` to its other end */
  _send(from: MemoryLink, bytes: Uint8Array): void {
    this.stats.sent++;
    const to = from.peer;
    let verdict: SimVerdict | undefined = this.filter?.({ from: from.address, to: to.address, bytes });
    if (verdict === undefined) {
      const f = this.faults;
      if (this.isPartitioned(from.address, to.address)) verdict = "drop";
      else if (f.dropRate > 0 && this.random() < f.dropRate) verdict = "drop";
      else if (f.duplicateRate > 0 && this.random() < f.duplicateRate) verdict = "duplicate";
      else verdict = "deliver";
    }
    if (verdict === "drop") {
      this.stats.dropped++;
      return;
    }
    let d = typeof verdict === "object" ? verdict.delayMs : this.delay();
    const reorder = this.faults.reorderRate > 0 && this.random() < this.faults.reorderRate;
    if (reorder) d += this.random() * (this.faults.maxDelayMs + 1);
    let at = this.clock.now() + d;
    if (!reorder) {
      // FIFO per direction unless this message may overtake
      const last = this.lastAt.get(from) ?? Number.NEGATIVE_INFINITY;
      if (at < last) at = last;
      this.lastAt.set(from, at);
    }
    const deliver = (): void => {
      this.stats.delivered++;
      to._receive(bytes);
    };
    this.enqueueAt(at, deliver);
    if (verdict === "duplicate") {
      this.stats.duplicated++;
      this.enqueueAt(at, deliver);
    }
  }

  /** @internal a close handshake: the remote learns (unless cut), then the local end */
  _closeBoth(local: MemoryLink, code: number, reason: string): void {
    const remote = local.peer;
    if (!this.isPartitioned(local.address, remote.address)) this._closeRemote(remote, code, reason);
    this._closeLocal(local, code, reason);
  }

  /** @internal */
  _closeRemote(remote: MemoryLink, code: number, reason: string): void {
    const at = Math.max(this.clock.now() + this.delay(), this.lastAt.get(remote.peer) ?? 0);
    this.enqueueAt(at, () => {
      this.live.delete(remote);
      remote._closed(code, reason);
    });
  }

  /** @internal */
  _closeLocal(local: MemoryLink, code: number, reason: string): void {
    this.enqueue(0, () => {
      this.live.delete(local);
      local._closed(code, reason);
    });
  }

  private enqueue(delay: number, run: () => void): void {
    this.enqueueAt(this.clock.now() + delay, run);
  }

  private enqueueAt(at: number, run: () => void): void {
    const ev: Event = { at, seq: this.seq++, run };
    // binary heap on (at, seq)
    const q = this.queue;
    q.push(ev);
    let i = q.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(ev, q[p]!)) break;
      q[i] = q[p]!;
      i = p;
    }
    q[i] = ev;
    this.arm();
  }

  private pop(): Event | undefined {
    const q = this.queue;
    const top = q[0];
    const last = q.pop();
    if (top === undefined || last === undefined || q.length === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= q.length) break;
      const r = l + 1;
      const c = r < q.length && before(q[r]!, q[l]!) ? r : l;
      if (!before(q[c]!, last)) break;
      q[i] = q[c]!;
      i = c;
    }
    q[i] = last;
    return top;
  }

  private arm(): void {
    const head = this.queue[0];
    if (head === undefined || head.at >= this.timerAt) return;
    this.timer?.cancel();
    this.timerAt = head.at;
    this.timer = this.clock.setTimer(Math.max(0, head.at - this.clock.now()), () => this.pump());
  }

  private pump(): void {
    this.timer = null;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = this.clock.now();
    // a bounded batch per turn so a chatty pair cannot starve timers
    for (let n = 0; n < 10_000; n++) {
      const head = this.queue[0];
      if (head === undefined || head.at > now) break;
      this.pop();
      head.run();
    }
    if (this.queue.length > 0) this.arm();
    else {
      const ws = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of ws) w();
    }
  }
}

function before(a: Event, b: Event): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

function resolveFaults(f: SimFaults): Required<SimFaults> {
  const minDelayMs = f.minDelayMs ?? 0;
  return {
    minDelayMs,
    maxDelayMs: Math.max(minDelayMs, f.maxDelayMs ?? minDelayMs),
    dropRate: f.dropRate ?? 0,
    duplicateRate: f.duplicateRate ?? 0,
    reorderRate: f.reorderRate ?? 0,
  };
}

function parseMemUrl(url: string): { address: string; path: string } {
  const rest = url.slice("mem://".length);
  const slash = rest.indexOf("/");
  return slash < 0 ? { address: rest, path: "" } : { address: rest.slice(0, slash), path: rest.slice(slash) };
}
