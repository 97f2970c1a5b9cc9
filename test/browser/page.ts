/**
 * The browser side of `browser.test.ts`: bundled by Vite (browser conditions, so
 * `spindel/distributed` is its browser entry) and loaded into Chromium. `window.spindelRun(url)`
 * connects to the hub and reports what it saw as plain values.
 */
import { createContext, isCancelled } from "spindel";
import { Peer, RemoteError } from "spindel/distributed";
import { bump, echo, fail, hang } from "./remotes.js";

let peer: Peer | null = null;
const ctx = createContext(); // serves the hub's calls and holds the peer's health signals

async function run(url: string): Promise<Record<string, unknown>> {
  peer = await Peer.connect({ id: "browser", url, context: ctx }); // ctx also serves the hub's calls
  const hub = peer.remote("hub");
  const out: Record<string, unknown> = {};
  out.bumps = [await ctx.value(bump(hub, 2)), await ctx.value(bump(hub, 3))];

  const sent = {
    n: 1.5,
    big: 2n ** 70n,
    when: new Date(86_400_000),
    bytes: new Uint8Array([1, 2, 3]),
    set: new Set(["a"]),
    map: new Map([["k", 1]]),
    nested: { list: [null, true, "x"] },
  };
  const got = (await ctx.value(echo(hub, sent))) as typeof sent;
  out.echo = {
    n: got.n,
    big: typeof got.big === "bigint" && got.big === 2n ** 70n,
    when: got.when instanceof Date && got.when.getTime() === 86_400_000,
    bytes: got.bytes instanceof Uint8Array && [...got.bytes].join(),
    set: got.set instanceof Set && [...got.set].join(),
    map: got.map instanceof Map && got.map.get("k"),
    nested: JSON.stringify(got.nested),
  };

  const error = await ctx.value(fail(hub, "nope")).then(
    () => null,
    (e: unknown) => e,
  );
  out.fail =
    error instanceof RemoteError
      ? { code: error.code, name: error.name, message: error.message, data: error.data }
      : String(error);

  const waiting = hang(hub, "from-browser");
  const cancelled = ctx.value(waiting).then(
    () => "answered",
    (e: unknown) => (isCancelled(e) ? "cancelled" : String(e)),
  );
  ctx.cancel(waiting);
  out.cancel = await cancelled;
  out.status = ctx.get(peer.status);
  return out;
}

async function close(): Promise<string> {
  if (peer === null) return "none";
  await peer.close();
  return ctx.get(peer.status);
}

/** A page cannot set headers: connecting with some is refused with a clear error. */
async function withHeaders(url: string): Promise<string> {
  return Peer.connect({ id: "headers", url, headers: { authorization: "x" } }).then(
    () => "connected",
    (e: unknown) => (e instanceof RemoteError ? `${e.code}: ${e.message}` : String(e)),
  );
}

/** `Peer.listen` in a page. */
async function listen(): Promise<string> {
  return Peer.listen({ id: "tab", port: 0 }).then(
    () => "listening",
    (e: unknown) => (e instanceof RemoteError ? `${e.code}: ${e.message}` : String(e)),
  );
}

/** Peers opened by the generic helpers below, by id, each with its own context. */
const peers = new Map<string, { peer: Peer; ctx: ReturnType<typeof createContext> }>();
const describe = (e: unknown): string => (e instanceof RemoteError ? `${e.code}: ${e.message}` : String(e));

/** Connect a peer `id` (options as for Peer.connect); answers "ok" or the error. */
async function open(id: string, url: string, opts: Record<string, unknown> = {}): Promise<string> {
  const c = createContext();
  try {
    peers.set(id, { peer: await Peer.connect({ id, url, context: c, ...opts }), ctx: c });
    return "ok";
  } catch (e) {
    return describe(e);
  }
}

/** Status of peer `id`, as its health context sees it. */
function status(id: string): string {
  const p = peers.get(id);
  return p === undefined ? "none" : p.ctx.get(p.peer.status);
}

/** Echo a string of `size` characters through the hub; answers its length or the error. */
async function echoSize(id: string, size: number, timeoutMs: number): Promise<string> {
  const p = peers.get(id)!;
  return p.ctx
    .value(echo(p.peer.remote("hub", { timeoutMs }), "x".repeat(size)))
    .then((v) => `length ${(v as string).length}`, describe);
}

/** Close peer `id`. */
async function shut(id: string): Promise<string> {
  const p = peers.get(id);
  if (p === undefined) return "none";
  peers.delete(id);
  await p.peer.close();
  return p.ctx.get(p.peer.status);
}

const w = globalThis as unknown as Record<string, unknown>;
Object.assign(w, { spOpen: open, spStatus: status, spEcho: echoSize, spShut: shut });
w.spindelHeaders = withHeaders;
w.spindelListen = listen;
w.spindelRun = run;
w.spindelClose = close;
