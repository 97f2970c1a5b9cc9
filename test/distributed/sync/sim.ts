/**
 * A small in-memory network of protocol hosts for the topic and sync tests: links are pairs of
 * `ProtocolLink`s whose payloads round-trip through the shared CBOR codec. Delivery is either
 * automatic (a macrotask per burst) or stepped by a seeded scheduler that reorders across links,
 * duplicates, and cuts links.
 */
import { decodeCbor, encodeCbor } from "../../../src/core/persist/codec.js";
import { seededRandom } from "../../../src/distributed/net/adapters/memory.js";
import type { ProtocolHandler, ProtocolHost, ProtocolLink } from "../../../src/distributed/peer/protocols.js";

/** A seeded PRNG (the simulated network's own). */
export const rng = seededRandom;

interface Pipe {
  readonly from: SimHost;
  readonly to: SimHost;
  readonly queue: Uint8Array[];
  /** the receiving end's link object */
  readonly link: SimLink;
}

class SimLink implements ProtocolLink {
  open = true;
  /** a frame arrived on this link while no protocol of its name was attached (dropped) */
  missed = false;
  constructor(
    readonly net: SimNet,
    readonly peerId: string,
    readonly principal: unknown,
    readonly dialed: boolean,
    readonly out: () => Pipe,
  ) {}
  send(payload: unknown): boolean {
    if (!this.open) return false;
    const bytes = encodeCbor(["topics-protocol", payload]);
    this.net.bytes += bytes.byteLength;
    this.net.frames++;
    const pipe = this.out();
    pipe.queue.push(bytes);
    this.net.kick();
    return true;
  }
}

/** A host on the simulated network. */
export class SimHost implements ProtocolHost {
  readonly handlers = new Map<string, ProtocolHandler>();
  readonly links = new Map<string, SimLink>();
  constructor(
    readonly net: SimNet,
    readonly id: string,
  ) {}
  attachProtocol(name: string, handler: ProtocolHandler): () => void {
    if (this.handlers.has(name)) throw new Error(`protocol ${name} already attached`);
    this.handlers.set(name, handler);
    for (const l of this.links.values()) handler.linkUp(l);
    return () => this.handlers.delete(name);
  }
}

/** The network. */
export class SimNet {
  readonly hosts = new Map<string, SimHost>();
  private readonly pipes = new Map<string, Pipe>();
  /** Bytes and frames sent. */
  bytes = 0;
  frames = 0;
  private scheduled = false;
  /** Probability that a delivered frame is delivered twice (stepped mode). */
  duplicate = 0;

  constructor(
    /** `auto`: deliver by itself; `step`: only when `step()` / `drain()` is called. */
    readonly mode: "auto" | "step" = "auto",
    readonly random: () => number = Math.random,
  ) {}

  host(id: string): SimHost {
    const h = new SimHost(this, id);
    this.hosts.set(id, h);
    return h;
  }

  /** Link `dialer` to `listener` (the dialer's link says `dialed`); both sides see linkUp. */
  connect(dialer: SimHost, listener: SimHost, principal: unknown = dialer.id): void {
    if (dialer.links.has(listener.id)) return;
    const ab: Pipe = { from: dialer, to: listener, queue: [], link: null as unknown as SimLink };
    const ba: Pipe = { from: listener, to: dialer, queue: [], link: null as unknown as SimLink };
    // the listener's link to the dialer: principal from "authenticate"; sends go b→a
    const atListener = new SimLink(this, dialer.id, principal, false, () => ba);
    const atDialer = new SimLink(this, listener.id, listener.id, true, () => ab);
    (ab as { link: SimLink }).link = atListener;
    (ba as { link: SimLink }).link = atDialer;
    this.pipes.set(`${dialer.id}>${listener.id}`, ab);
    this.pipes.set(`${listener.id}>${dialer.id}`, ba);
    dialer.links.set(listener.id, atDialer);
    listener.links.set(dialer.id, atListener);
    for (const h of dialer.handlers.values()) h.linkUp(atDialer);
    for (const h of listener.handlers.values()) h.linkUp(atListener);
  }

  /** Cut the link between `a` and `b` (in-flight frames are lost); both sides see linkDown. */
  disconnect(a: SimHost, b: SimHost): void {
    const la = a.links.get(b.id);
    const lb = b.links.get(a.id);
    if (la === undefined || lb === undefined) return;
    la.open = false;
    lb.open = false;
    a.links.delete(b.id);
    b.links.delete(a.id);
    this.pipes.delete(`${a.id}>${b.id}`);
    this.pipes.delete(`${b.id}>${a.id}`);
    for (const h of a.handlers.values()) h.linkDown(la);
    for (const h of b.handlers.values()) h.linkDown(lb);
  }

  /** Whether a and b are linked. */
  linked(a: SimHost, b: SimHost): boolean {
    return a.links.has(b.id);
  }

  /** Frames in flight. */
  get inFlight(): number {
    let n = 0;
    for (const p of this.pipes.values()) n += p.queue.length;
    return n;
  }

  /** @internal */
  kick(): void {
    if (this.mode !== "auto" || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      while (this.stepOnce()) {}
    });
  }

  private deliver(pipe: Pipe, bytes: Uint8Array): void {
    const [, payload] = decodeCbor(bytes) as [string, unknown];
    if (process.env.SIM_TRACE) console.log(`${pipe.from.id} -> ${pipe.to.id}`, JSON.stringify(payload));
    const h = pipe.to.handlers.get("topics");
    if (!pipe.link.open) return;
    if (h === undefined) pipe.link.missed = true;
    else h.message(pipe.link, payload);
  }

  private isPublish(bytes: Uint8Array): boolean {
    const [, payload] = decodeCbor(bytes) as [string, unknown];
    return Array.isArray(payload) && payload[0] === 4;
  }

  /** Deliver one frame from a random non-empty pipe (FIFO per pipe). Returns false when none is in flight. */
  stepOnce(): boolean {
    const ready = [...this.pipes.values()].filter((p) => p.queue.length > 0);
    if (ready.length === 0) return false;
    const pipe = this.mode === "auto" ? ready[0]! : ready[Math.floor(this.random() * ready.length)]!;
    const bytes = pipe.queue.shift()!;
    this.deliver(pipe, bytes);
    // a reliable link never duplicates its control frames; a publish may arrive twice (redelivery)
    if (this.duplicate > 0 && this.isPublish(bytes) && this.random() < this.duplicate)
      this.deliver(pipe, bytes);
    return true;
  }
}

/** Deliver (stepped mode) until nothing is in flight, letting microtasks and immediates run between steps. */
export async function drain(net: SimNet, maxSteps = 1_000_000): Promise<number> {
  let steps = 0;
  for (;;) {
    while (net.stepOnce()) if (++steps > maxSteps) throw new Error(`not quiet after ${maxSteps} steps`);
    await new Promise((r) => setImmediate(r));
    if (net.inFlight === 0) return steps;
  }
}
