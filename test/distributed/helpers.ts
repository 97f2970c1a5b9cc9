/**
 * Helpers for the distributed tests: peers that are closed after each test, bounded waits on
 * events (never fixed sleeps), a raw `ws` client speaking CBOR by hand, and gates.
 */

import { once } from "node:events";
import { type Context, createContext, type Signal, type SpinScope, spin } from "spindel";
import {
  type ListeningPeer,
  Peer,
  type PeerConnectOptions,
  type PeerListenOptions,
  type RemoteDefinition,
  registerRemote,
} from "spindel/distributed";
import { afterEach, describe, test } from "vitest";
import { type ClientOptions, type RawData, WebSocket } from "ws";
import { decodeCbor, encodeCbor } from "../../src/core/persist/codec.js";
import { DEFAULT_LIMITS } from "../../src/distributed/limits.js";
import { transport } from "../../src/distributed/transport.js";
import {
  decodeFrame,
  type Frame,
  FrameError,
  frameToWire,
  PROTOCOL_VERSION,
} from "../../src/distributed/wire.js";
import { type Gate, gate } from "../core/helpers.js";

const open = new Set<Peer>();

afterEach(async () => {
  const peers = [...open];
  open.clear();
  await Promise.all(peers.map((p) => p.close()));
});

/** Whether this test file runs over the in-memory network (see memory/setup.ts). */
export const overMemory = transport().name === "memory";

/**
 * A test that needs real sockets (raw clients, HTTP servers, ws internals): registered only when
 * the file runs over `ws`; the in-memory run of the same file leaves it out.
 */
export const socketTest: typeof test = (overMemory ? () => {} : test) as typeof test;

/** A group of {@link socketTest}s: registered only over `ws`. */
export const socketDescribe: typeof describe = (overMemory ? () => {} : describe) as typeof describe;

/** Track a peer so it is closed after the test. */
export function track<P extends Peer>(p: P): P {
  open.add(p);
  return p;
}

/** A listening peer on 127.0.0.1, port 0, with a fresh "default" context (closed after the test). */
export async function hub(
  opts: Partial<PeerListenOptions> & { server?: undefined } = {},
): Promise<{ peer: ListeningPeer; ctx: Context }> {
  const ctx = opts.context ?? createContext({ name: "hub" });
  const peer = track(await Peer.listen({ id: "hub", host: "127.0.0.1", port: 0, ...opts, context: ctx }));
  return { peer, ctx };
}

/** A client peer connected to `url` (closed after the test). */
export async function client(url: string, opts: Partial<PeerConnectOptions> = {}): Promise<Peer> {
  return track(await Peer.connect({ id: "c1", url, ...opts }));
}

/** Poll `check` until it holds; rejects with `what` after `ms` (for state no signal reports). */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  what: string,
  ms = 5_000,
): Promise<void> {
  const deadline = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Reject with a clear message when `p` does not settle within `ms`. */
export async function within<T>(p: Promise<T>, ms: number, what = "operation"): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The error a promise rejects with (fails when it resolves). */
export async function rejection(p: Promise<unknown>, ms = 5_000): Promise<Record<string, unknown> & Error> {
  try {
    const v = await within(p, ms, "expected rejection");
    throw new Error(`expected a rejection, got ${String(v)}`);
  } catch (err) {
    return err as Record<string, unknown> & Error;
  }
}

export type { Gate };
export { gate };

/** Resolve once `pred(sig's value in ctx)` holds (checked now and on every change), within `ms`. */
export function until<T>(ctx: Context, sig: Signal<T>, pred: (v: T) => boolean, ms = 5_000): Promise<T> {
  const g = gate<T>();
  const stop = ctx.observe(
    spin(($) => $.track(sig)),
    (v) => {
      if (pred(v)) g.resolve(v);
    },
  );
  return within(g.promise, ms, `signal ${sig.name ?? sig.id}`).finally(stop);
}

let nextId = 0;
/** Register a remote body under a fresh id (the same call the compiler emits). */
export function defineRemote<A extends unknown[]>(
  params: readonly string[],
  factory: (...args: A) => ($: SpinScope) => unknown,
  name = "fn",
): RemoteDefinition {
  return registerRemote(
    `test/distributed:${name}:${nextId++}`,
    params,
    `hash-${name}-${nextId}`,
    factory as (...args: unknown[]) => ($: SpinScope) => unknown,
  );
}

/**
 * A frame written by hand: like {@link Frame}, but fields may hold values of the wrong shape
 * (for tests of the listener's validation).
 */
export type HandFrame = { type: Frame["type"] } & Record<string, unknown>;

/** The positional CBOR bytes of a hand-written frame (no validation). */
export function handFrame(f: HandFrame): Uint8Array {
  return encodeCbor(frameToWire(f as unknown as Frame));
}

/** A raw `ws` client that speaks CBOR frames by hand (for protocol and fuzz tests). */
export class RawClient {
  /** Frames received, decoded and validated like the real peer does (a frame that fails is kept as `{ type: "invalid", error }`). */
  readonly frames: unknown[] = [];
  /** The same frames as received, undecoded. */
  readonly rawFrames: Uint8Array[] = [];
  closed: { code: number; reason: string } | null = null;
  private waiters: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data: RawData) => {
      const bytes = new Uint8Array(data as Buffer);
      this.rawFrames.push(bytes);
      try {
        this.frames.push(decodeFrame(bytes, DEFAULT_LIMITS));
      } catch (error) {
        // a protocol 1 error (a map) is what a listener answers a protocol 1 hello with
        if (error instanceof FrameError && error.legacy) this.frames.push(decodeCbor(bytes));
        else this.frames.push({ type: "invalid", error });
      }
      this.wake();
    });
    ws.on("close", (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wake();
    });
    ws.on("error", () => {});
  }

  private wake(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }

  /** Open a raw connection (options as for `ws`). */
  static async open(url: string, opts: ClientOptions = {}): Promise<RawClient> {
    const ws = new WebSocket(url, { perMessageDeflate: false, ...opts });
    const c = new RawClient(ws);
    await within(once(ws, "open"), 5_000, "raw client open");
    return c;
  }

  /** Send a frame (fields in any shape: see {@link HandFrame}). */
  send(frame: HandFrame): void {
    this.ws.send(handFrame(frame), { binary: true });
  }

  /** Send any value as one CBOR frame (for frames that are not frames at all). */
  sendValue(value: unknown): void {
    this.ws.send(encodeCbor(value), { binary: true });
  }

  /** Send raw bytes (binary) or text. */
  sendRaw(data: Uint8Array | string): void {
    this.ws.send(data, { binary: typeof data !== "string" });
  }

  /** Say hello as `peer`. */
  async hello(peer: string, credential?: unknown): Promise<Record<string, unknown>> {
    const n = this.frames.length;
    this.send({
      type: "hello",
      v: PROTOCOL_VERSION,
      peer,
      ...(credential !== undefined ? { credential } : {}),
    });
    return this.next(n);
  }

  /** The frame with index `i` (waits for it, bounded). */
  async next(i = this.frames.length, ms = 5_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + ms;
    while (this.frames.length <= i) {
      if (this.closed !== null)
        throw new Error(`closed (${this.closed.code} ${this.closed.reason}) before frame ${i}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no frame ${i} within ${ms} ms`);
      await within(new Promise<void>((r) => this.waiters.push(r)), left, `frame ${i}`);
    }
    return this.frames[i] as Record<string, unknown>;
  }

  /** Wait for the socket to close (bounded). */
  async whenClosed(ms = 5_000): Promise<{ code: number; reason: string }> {
    const deadline = Date.now() + ms;
    while (this.closed === null) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`not closed within ${ms} ms`);
      await within(new Promise<void>((r) => this.waiters.push(r)), left, "close");
    }
    return this.closed;
  }

  /** Close and wait. */
  async close(): Promise<void> {
    if (this.closed === null) {
      this.ws.terminate();
      await this.whenClosed();
    }
  }
}

/** Per-test observation of a remote body: it started, and (maybe) saw its `$.signal` abort. */
export interface Probe {
  started: Gate<void>;
  aborted: Gate<unknown>;
  finished: Gate<void>;
}
const probes = new Map<string, Probe>();

/** A fresh probe for the `hang` bodies called with `key`. */
export function probe(key: string): Probe {
  const p: Probe = { started: gate(), aborted: gate(), finished: gate() };
  probes.set(key, p);
  return p;
}

/** Waits forever (until cancelled), reporting start, abort and finish through the probe named by `key`. */
export const hang = defineRemote(
  ["key"],
  (key) => async ($: SpinScope) => {
    const p = probes.get(key as string)!;
    const sig = $.signal;
    sig.addEventListener("abort", () => p.aborted.resolve(sig.reason));
    p.started.resolve();
    try {
      await $.await(new Promise<never>(() => {}));
    } finally {
      p.finished.resolve();
    }
  },
  "hang",
);
