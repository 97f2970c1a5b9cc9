/**
 * Peers: a process-local endpoint with an id, a context registry and WebSocket links to other
 * peers. `Peer.listen` accepts connections (its own HTTP server on host:port, or attached to an
 * existing one), `Peer.connect` dials one (optionally reconnecting with exponential backoff and
 * jitter). Once the hello exchange is done a link is symmetric: either side can call the other.
 * @module
 */

import type { Clock, TimerHandle } from "../core/clock.js";
import type { Context } from "../core/context.js";
import { defaultContext } from "../core/context.js";
import { invalidArgument, shown } from "../core/errors.js";
import { encodeCbor } from "../core/persist/codec.js";
import { type Signal, signal } from "../core/signal.js";
import { type Spin, spin } from "../core/spin.js";
import {
  type CallHost,
  type CallOptions,
  type LinkWaiter,
  RemoteCall,
  type ResolvedCallOptions,
} from "./call.js";
import { CloseCode, Connection, type ConnectionHost, truncateReason } from "./connection.js";
import { ContextRegistry, DEFAULT_CONTEXT_ID } from "./contexts.js";
import { Deadlines, deadlineClockOf } from "./deadlines.js";
import { RemoteError } from "./errors.js";
import { resolveLimits, type WireLimits } from "./limits.js";
import type { Link, LinkServer, LinkTransport } from "./net/link.js";
import type { AttachableServer, UpgradeRequest } from "./net/link-socket.js";
import type { ProtocolHandler, ProtocolHost, ProtocolLink } from "./peer/protocols.js";
import type { RemoteDefinition, RemoteTarget } from "./remote-registry.js";
import { type AuthorizeHook, type ServeHost, serveInvoke } from "./serve.js";
import { transport } from "./transport.js";
import {
  type ErrorFrame,
  type HelloFrame,
  type InvokeFrame,
  LIMITS_IN_HELLO,
  messageOf,
  PROTOCOL_VERSION,
  type ProtocolFrame,
} from "./wire.js";

/** What `authenticate` gets: the hello of a connecting peer and its HTTP upgrade request. */
export interface HelloInfo {
  /** The id the connecting peer claims. */
  readonly peerId: string;
  /** The credential it sent (`ConnectOptions.credential`), if any. */
  readonly credential: unknown;
  /** The HTTP upgrade request (headers, cookies, remote address). */
  readonly request: UpgradeRequest | undefined;
}

/**
 * Decides whether a connecting peer may talk to this one. Return the principal (any value but
 * `undefined`, `null` or `false`) to accept; return one of those, or throw, to refuse with
 * `ERR_UNAUTHORIZED`. Throw a `RemoteError` to send its message to the client; other errors are
 * reported as "authentication refused".
 */
export type AuthenticateHook = (hello: HelloInfo) => unknown;

/** Health of a peer, as {@link Peer.status}. */
export type PeerStatus = "connecting" | "online" | "reconnecting" | "offline" | "closed";

/** Options shared by every peer. */
export interface PeerOptions {
  /** This peer's id (non-empty, at most 256 characters). */
  id: string;
  /** Registered as the `"default"` context; health signals are written here (default: `defaultContext()`). */
  context?: Context;
  /** Default deadline of a call in ms (default 30,000; `Infinity`: none). */
  timeoutMs?: number;
  /** How long a call waits for a connection to its target, and how long a handshake may take (default 10,000 ms). */
  connectTimeoutMs?: number;
  /** Ping interval; a link that misses a pong for one interval is dropped (default 15,000 ms; 0: off). */
  heartbeatMs?: number;
  /** Frame and structure limits (see {@link WireLimits}). */
  limits?: Partial<WireLimits>;
  /** Listener side: accept or refuse connecting peers. Without it every peer is accepted (principal: its id). */
  authenticate?: AuthenticateHook;
  /** Every incoming call: may this principal run this function in this context? */
  authorize?: AuthorizeHook;
  /** Send stack traces of remote errors to callers (default false: stacks are redacted). */
  exposeStacks?: boolean;
  /** Diagnostics: protocol errors, refused connections, hooks that threw (default: ignored). */
  onError?: (error: unknown, where: string) => void;
  /**
   * How links are made (default: the platform's, `ws` on Node and the page's WebSocket in a
   * browser). The in-memory network of `spindel/distributed/testing` passes its own here.
   */
  transport?: LinkTransport;
}

/** Where to listen. */
export interface ListenOptions {
  /** Host to bind (default `"127.0.0.1"`). Ignored with `server`. */
  host?: string;
  /** Port (default 0: any free port). Ignored with `server`. */
  port?: number;
  /** Attach to this HTTP(S) server instead of creating one (it is not closed by `peer.close()`). */
  server?: AttachableServer;
  /** Only upgrade requests for this path (default: every path; `/` with `server` is a good idea). */
  path?: string;
  /** Only accept upgrade requests whose `Origin` header is in this list (requests without `Origin` — non-browsers — pass). */
  origins?: readonly string[];
  /** Close a TCP connection that sends no upgrade request within this many ms (default 10,000; own server only). */
  upgradeTimeoutMs?: number;
  /** Most TCP connections open at once, upgraded or not; more are refused (default: unbounded; own server only). */
  maxConnections?: number;
}

/** Reconnection policy: exponential backoff with jitter. */
export interface ReconnectOptions {
  /** First delay (default 100 ms). */
  initialDelayMs?: number;
  /** Cap of the delay (default 10,000 ms). */
  maxDelayMs?: number;
  /** Growth factor per attempt (default 2). */
  factor?: number;
  /** Fraction of each delay that is randomized away (0–1, default 0.5). */
  jitter?: number;
  /** Give up after this many failed attempts in a row (default: never). */
  maxAttempts?: number;
}

/** Where and how to dial. */
export interface DialOptions {
  /** `ws://` or `wss://` URL of a listening peer. */
  url: string;
  /** Sent in the hello, handed to the listener's `authenticate`. */
  credential?: unknown;
  /** Extra HTTP headers of the upgrade request (Node clients only). */
  headers?: Record<string, string>;
  /** Reconnect when the link drops (`true`: default backoff). Default false. */
  reconnect?: boolean | ReconnectOptions;
  /** Resolve only once connected (default true). With false, calls wait for the link instead. */
  wait?: boolean;
}

/** A peer that listens on its own server: its `url` is known. */
export type ListeningPeer = Peer & { readonly url: string };

/** `Peer.listen` options. */
export type PeerListenOptions = PeerOptions & ListenOptions;
/** `Peer.connect` options. */
export type PeerConnectOptions = PeerOptions & DialOptions;

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_HEARTBEAT_MS = 15_000;
const CLOSE_GRACE_MS = 500;

function checkMs(name: string, v: number | undefined, dflt: number, allowInfinity: boolean): number {
  if (v === undefined) return dflt;
  if (typeof v !== "number" || Number.isNaN(v) || v < 0 || (!allowInfinity && !Number.isFinite(v)))
    invalidArgument(
      `${name} must be a non-negative number${allowInfinity ? " or Infinity" : ""}, got ${shown(v)}`,
    );
  return v;
}

/**
 * A handle addressing one peer: pass it (or `[handle, contextId]`) as the scope of a remote
 * function. Implements the runtime's `RemoteTarget`.
 */
export class RemoteScope implements RemoteTarget {
  /**
   * Use `peer.remote(id)`.
   * @param peer the calling peer
   * @param id the addressed peer id
   * @param options deadline, connection wait, abort signal
   */
  constructor(
    readonly peer: Peer,
    readonly id: string,
    readonly options: ResolvedCallOptions,
  ) {}

  /** Whether a link to this peer is up (a signal, written in the peer's health context). */
  get connected(): Signal<boolean> {
    return this.peer._connectedSignal(this.id);
  }

  /** A handle to the same peer with other call options. */
  with(options: CallOptions): RemoteScope {
    return new RemoteScope(this.peer, this.id, this.peer._resolveCallOptions(options, this.options));
  }

  /** `[this, contextId]`: the scope addressing a named context on this peer. */
  context(contextId: string): readonly [RemoteScope, string] {
    return [this, contextId] as const;
  }

  /** Runtime contract: a spin that runs `def` with `args` on this peer, in context `contextId`. */
  invokeRemote(
    def: RemoteDefinition,
    args: readonly unknown[],
    contextId: string | undefined,
  ): Spin<unknown> {
    const call = new RemoteCall(this.peer._callHost, this.id, def, args, contextId, this.options);
    return spin(($) => $.await(call), { name: `${def.id}@${this.id}${contextId ? `/${contextId}` : ""}` });
  }

  /** Debug representation. */
  toString(): string {
    return `RemoteScope(${this.peer.id} -> ${this.id})`;
  }
}

enum DialState {
  Connecting = 0,
  Open = 1,
  Backoff = 2,
  Stopped = 3,
}

/** One outgoing link, re-dialed with backoff when asked to. */
class Dialer {
  state = DialState.Connecting;
  conn: Connection | null = null;
  everConnected = false;
  /** The remote's id, once a hello told it ("" before). */
  remoteId = "";
  private attempt = 0;
  private timer: TimerHandle | null = null;
  private refusal: RemoteError | null = null;
  private readonly ready: {
    resolve: (id: string) => void;
    reject: (e: RemoteError) => void;
    settled: boolean;
  };
  readonly whenReady: Promise<string>;

  constructor(
    private readonly peer: Peer,
    readonly opts: DialOptions,
    private readonly backoff: Required<ReconnectOptions> | null,
  ) {
    let res!: (id: string) => void;
    let rej!: (e: RemoteError) => void;
    this.whenReady = new Promise<string>((resolve, reject) => {
      res = resolve;
      rej = reject;
    });
    this.whenReady.catch(() => {}); // never an unhandled rejection: callers that care await it
    this.ready = { resolve: res, reject: rej, settled: false };
  }

  dial(): void {
    if (this.state === DialState.Stopped) return;
    this.state = DialState.Connecting;
    this.refusal = null;
    this.peer._refreshStatus();
    let link: Link;
    try {
      link = this.peer.transport.dial(this.opts.url, {
        maxPayload: linkPayloadCap(this.peer.limits),
        handshakeTimeout: Number.isFinite(this.peer.connectTimeoutMs)
          ? this.peer.connectTimeoutMs
          : undefined,
        headers: this.opts.headers,
        localId: this.peer.id,
      });
    } catch (err) {
      this.failed(
        new RemoteError("ERR_UNAVAILABLE", `cannot connect to ${this.opts.url}: ${messageOf(err)}`),
        true,
      );
      return;
    }
    const conn = new Connection(this.peer._connectionHost, link, false, undefined);
    this.conn = conn;
    this.peer._track(conn, this);
    // bounds the WebSocket opening handshake too (a browser socket has no timeout of its own)
    conn.armHandshakeTimeout(this.peer.connectTimeoutMs, "no answer from the listener");
    conn.onOpen = () => {
      if (conn.state !== "handshake") return;
      try {
        const hello: HelloFrame = {
          type: "hello",
          v: PROTOCOL_VERSION,
          peer: this.peer.id,
          limits: helloLimits(this.peer.limits),
        };
        if (this.opts.credential !== undefined) hello.credential = this.opts.credential;
        conn.send(hello);
      } catch (err) {
        this.refusal = new RemoteError(
          "ERR_NOT_SERIALIZABLE",
          `cannot send the credential: ${messageOf(err)}`,
        );
        conn.close(CloseCode.Normal, "credential not serializable");
        return;
      }
    };
  }

  /** The listener's hello arrived. */
  opened(conn: Connection, remoteId: string): void {
    if (conn !== this.conn) return;
    this.state = DialState.Open;
    this.attempt = 0;
    this.everConnected = true;
    this.remoteId = remoteId;
    if (!this.ready.settled) {
      this.ready.settled = true;
      this.ready.resolve(remoteId);
    }
  }

  /** The listener refused us during the handshake. */
  refused(error: RemoteError): void {
    this.refusal = error;
  }

  /** Our connection closed. */
  closed(conn: Connection): void {
    if (conn !== this.conn) return;
    this.conn = null;
    if (this.state === DialState.Stopped) return;
    if (this.refusal !== null) {
      this.failed(this.refusal, true);
      return;
    }
    const why = conn.closeReason || `close code ${conn.closeCode}`;
    this.failed(
      new RemoteError(
        "ERR_UNAVAILABLE",
        conn.remoteId !== ""
          ? `connection to ${this.opts.url} lost: ${why}`
          : `cannot connect to ${this.opts.url}: ${why}`,
      ),
      false,
    );
  }

  private failed(error: RemoteError, permanent: boolean): void {
    const b = this.backoff;
    if (!permanent && b !== null && this.attempt < b.maxAttempts && !this.peer.isClosed) {
      const base = Math.min(b.maxDelayMs, b.initialDelayMs * b.factor ** this.attempt);
      const delay = base * (1 - b.jitter * Math.random());
      this.attempt++;
      this.state = DialState.Backoff;
      this.timer = this.peer._clock.setTimer(delay, () => {
        this.timer = null;
        this.dial();
      });
      this.peer._refreshStatus();
      return;
    }
    this.state = DialState.Stopped;
    if (!this.ready.settled) {
      this.ready.settled = true;
      this.ready.reject(error);
    }
    this.peer._dialerStopped(this, error);
  }

  /** Stop dialing and close the link. */
  stop(reason: string, failCode: "ERR_CLOSED" | "ERR_DISCONNECTED"): void {
    if (this.state === DialState.Stopped && this.conn === null) return;
    this.state = DialState.Stopped;
    if (this.timer !== null) {
      this.timer.cancel();
      this.timer = null;
    }
    if (!this.ready.settled) {
      this.ready.settled = true;
      this.ready.reject(
        new RemoteError(failCode === "ERR_CLOSED" ? "ERR_CLOSED" : "ERR_UNAVAILABLE", reason),
      );
    }
    this.conn?.close(CloseCode.Normal, reason, failCode);
  }
}

/**
 * A peer: an id, a context registry, links to other peers. Create one with {@link Peer.listen} or
 * {@link Peer.connect} (or `new Peer(opts)` then `peer.listen(...)` / `peer.connect(...)`), address
 * others with `peer.remote(id)`, and `await peer.close()` when done: it closes every socket and
 * timer it opened.
 */
export class Peer implements ProtocolHost {
  /** This peer's id. */
  readonly id: string;
  /** Contexts incoming calls can address, by id. */
  readonly contexts: ContextRegistry = new ContextRegistry();
  /** Health: `"connecting"`, `"online"`, `"reconnecting"`, `"offline"` or `"closed"` (written in the health context). */
  readonly status: Signal<PeerStatus>;
  /** Ids of the peers linked right now (written in the health context). */
  readonly peers: Signal<readonly string[]>;
  /** Limits applied to every connection. */
  readonly limits: WireLimits;
  /** Default call deadline (ms). */
  readonly timeoutMs: number;
  /** Connection wait / handshake bound (ms). */
  readonly connectTimeoutMs: number;
  /** Heartbeat interval (ms, 0: off). */
  readonly heartbeatMs: number;
  /** How this peer makes links. */
  readonly transport: LinkTransport;
  /**
   * Protocol payloads dropped because no protocol of that name is attached here (the first one per
   * link and name is answered with an `ERR_NO_FUNCTION` error frame, the rest only counted).
   */
  droppedProtocolFrames = 0;
  /** Calls other peers run here, over all links (a call holds its slot until its body finished). */
  private readonly slots = { count: 0 };
  private readonly protocols = new Map<string, ProtocolHandler>();
  private readonly protocolLinks = new Map<Connection, Map<string, ProtocolLink>>();
  private readonly unknownProtocols = new WeakMap<Connection, Set<string>>();
  private readonly healthCtx: Context;
  private readonly authenticate: AuthenticateHook | undefined;
  private readonly onErrorHook: ((error: unknown, where: string) => void) | undefined;
  private readonly links = new Map<string, Connection>();
  private readonly all = new Set<Connection>();
  private readonly dialerOf = new Map<Connection, Dialer>();
  private readonly dialers = new Set<Dialer>();
  private readonly waiters = new Map<string, Set<LinkWaiter>>();
  private readonly connectedSignals = new Map<string, Signal<boolean>>();
  private readonly scopes = new Map<string, RemoteScope>();
  private listener: LinkServer | null = null;
  /** The URL last seen while listening (kept after close, for logs and for re-listening on the same port). */
  private lastUrl: string | undefined = undefined;
  private closing: Promise<void> | null = null;
  /** Set by the first `listen` or `connect`: from then on calls to peers nothing links fail at once. */
  private started = false;
  private readonly defaultCallOptions: ResolvedCallOptions;
  /** @internal */
  readonly _callHost: CallHost;
  /** @internal */
  readonly _connectionHost: ConnectionHost;
  private readonly serveHost: ServeHost;
  /** Deadlines of this peer's calls, both directions. */
  private readonly deadlines: Deadlines;

  /** Create a peer with no transport yet; see {@link Peer.listen} and {@link Peer.connect}. */
  constructor(opts: PeerOptions) {
    if (typeof opts !== "object" || opts === null) invalidArgument("Peer: options are required");
    if (typeof opts.id !== "string" || opts.id === "" || opts.id.length > 256)
      invalidArgument("Peer: id must be a non-empty string of at most 256 characters");
    this.id = opts.id;
    this.limits = resolveLimits(opts.limits);
    this.timeoutMs = checkMs("timeoutMs", opts.timeoutMs, DEFAULT_TIMEOUT_MS, true);
    this.connectTimeoutMs = checkMs(
      "connectTimeoutMs",
      opts.connectTimeoutMs,
      DEFAULT_CONNECT_TIMEOUT_MS,
      true,
    );
    this.heartbeatMs = checkMs("heartbeatMs", opts.heartbeatMs, DEFAULT_HEARTBEAT_MS, false);
    this.authenticate = opts.authenticate;
    this.onErrorHook = opts.onError;
    this.transport = opts.transport ?? transport();
    this.healthCtx = opts.context ?? defaultContext();
    // call deadlines, connection waits and reconnect backoff run on the context's clock (virtual
    // in tests); transport safeguards (handshake, heartbeat, close grace) stay on real time
    this.deadlines = new Deadlines(deadlineClockOf(this.healthCtx.clock));
    if (opts.context !== undefined) this.contexts.register(DEFAULT_CONTEXT_ID, opts.context);
    this.status = signal<PeerStatus>("offline", { name: `peer ${this.id} status` });
    this.peers = signal<readonly string[]>([], { name: `peer ${this.id} links` });
    this.defaultCallOptions = {
      timeoutMs: this.timeoutMs,
      connectTimeoutMs: this.connectTimeoutMs,
      signal: undefined,
    };
    const self = this;
    this._callHost = {
      id: this.id,
      get isClosed() {
        return self.closing !== null;
      },
      linkTo: (peerId) => this.links.get(peerId),
      waitForLink: (peerId, w) => this.waitForLink(peerId, w),
      cancelWait: (peerId, w) => {
        const set = this.waiters.get(peerId);
        if (set?.delete(w) && set.size === 0) this.waiters.delete(peerId);
      },
      localContext: (cid) => this.contexts.get(cid),
      localCalls: new Set(),
      maxPendingCalls: this.limits.maxPendingCalls,
      deadlines: this.deadlines,
    };
    this.serveHost = {
      id: this.id,
      limits: this.limits,
      exposeStacks: opts.exposeStacks === true,
      authorize: opts.authorize,
      deadlines: this.deadlines,
      localContext: (cid) => this.contexts.get(cid),
      report: (e, w) => this.report(e, w),
      slots: this.slots,
    };
    this._connectionHost = {
      id: this.id,
      limits: this.limits,
      onHello: (conn, frame) => this.onHello(conn, frame),
      onRefused: (conn, frame) => this.onRefused(conn, frame),
      onInvoke: (conn, frame: InvokeFrame) => serveInvoke(this.serveHost, conn, frame),
      onProtocol: (conn, frame) => this.onProtocol(conn, frame),
      onClosed: (conn) => this.onConnectionClosed(conn),
      bufferedTotal: () => {
        let n = 0;
        for (const c of this.all) n += c.link.bufferedAmount;
        return n;
      },
      report: (e, w) => this.report(e, w),
    };
  }

  /**
   * Create a peer and listen for connections: `await Peer.listen({ id, host, port })`. With its own
   * server (no `server` option) the peer is bound when this resolves, so its `url` is a string.
   */
  static listen(opts: PeerListenOptions & { server?: undefined }): Promise<ListeningPeer>;
  /** Create a peer attached to an existing HTTP server (`url` is undefined until that server is bound). */
  static listen(opts: PeerListenOptions): Promise<Peer>;
  static async listen(opts: PeerListenOptions): Promise<Peer> {
    const peer = new Peer(opts);
    try {
      await peer.listen(opts);
    } catch (err) {
      await peer.close();
      throw err;
    }
    return peer;
  }

  /**
   * Create a peer and dial a listening one. Resolves once the hello exchange completed (unless
   * `wait: false`); rejects with `ERR_UNAVAILABLE` / `ERR_UNAUTHORIZED` (and closes the peer) when
   * the first connection fails and no reconnection is configured, or none succeeded within `connectTimeoutMs`.
   */
  static async connect(opts: PeerConnectOptions): Promise<Peer> {
    const peer = new Peer(opts);
    try {
      await peer.connect(opts);
    } catch (err) {
      await peer.close();
      throw err;
    }
    return peer;
  }

  /** The URL peers connect to (`ws://host:port/path`), once listening (still the last one after `close()`). */
  get url(): string | undefined {
    const l = this.listener;
    if (l !== null && this.closing === null) this.lastUrl = l.url ?? this.lastUrl;
    return this.lastUrl;
  }

  /** Whether `close()` was called. */
  get isClosed(): boolean {
    return this.closing !== null;
  }

  /** Listen for connections; resolves with the URL (undefined when attached to a server that is not bound yet). */
  async listen(opts: ListenOptions = {}): Promise<string | undefined> {
    this.checkOpen("listen");
    this.started = true;
    if (this.listener !== null) invalidArgument(`peer '${this.id}' is already listening on ${this.url}`);
    const path = opts.path;
    if (path !== undefined && (typeof path !== "string" || !path.startsWith("/")))
      invalidArgument(`listen: path must start with "/", got ${String(path)}`);
    const listen = this.transport.listen;
    if (listen === null)
      throw new RemoteError(
        "ERR_UNAVAILABLE",
        `peer '${this.id}' cannot listen here (${this.transport.name}): a browser cannot accept WebSocket connections; connect to a listening peer instead`,
      );
    const listener = await listen({
      peerId: this.id,
      maxPayload: linkPayloadCap(this.limits),
      host: opts.host,
      port: opts.port,
      server: opts.server,
      path,
      origins: opts.origins,
      upgradeTimeoutMs: opts.upgradeTimeoutMs,
      maxConnections: opts.maxConnections,
      accept: ({ link, request }) => this.accept(link, request),
      isClosing: () => this.closing !== null,
      report: (e, w) => this.report(e, w),
    });

    if (this.closing !== null) {
      // closed while we were binding: undo, leave nothing open
      await this.closeListener(listener);
      throw new RemoteError("ERR_CLOSED", `peer '${this.id}' was closed while it started listening`);
    }
    this.listener = listener;
    this._refreshStatus();
    return this.url;
  }

  /**
   * Dial a listening peer. Resolves with its id once connected (or `undefined` at once with
   * `wait: false`). Rejects like {@link Peer.connect} (the dialer is stopped then).
   */
  async connect(opts: DialOptions): Promise<string | undefined> {
    this.checkOpen("connect");
    if (typeof opts?.url !== "string" || !this.transport.accepts(opts.url))
      invalidArgument(
        `connect: url ${String(opts?.url)} is not one the ${this.transport.name} transport dials (ws://, wss:// or ws+unix: for WebSocket, mem:// in memory)`,
      );
    const backoff = resolveBackoff(opts.reconnect);
    this.started = true;
    const dialer = new Dialer(this, opts, backoff);
    this.dialers.add(dialer);
    dialer.dial();
    if (opts.wait === false) return undefined;
    let timer: TimerHandle | null = null;
    const bounded = Number.isFinite(this.connectTimeoutMs)
      ? new Promise<never>((_, reject) => {
          timer = this._clock.setTimer(this.connectTimeoutMs, () =>
            reject(
              new RemoteError(
                "ERR_UNAVAILABLE",
                `no connection to ${opts.url} within connectTimeoutMs ${this.connectTimeoutMs} ms`,
              ),
            ),
          );
        })
      : null;
    try {
      return await (bounded !== null ? Promise.race([dialer.whenReady, bounded]) : dialer.whenReady);
    } catch (err) {
      dialer.stop("connect failed", "ERR_DISCONNECTED");
      this.dialers.delete(dialer);
      throw err;
    } finally {
      (timer as TimerHandle | null)?.cancel();
    }
  }

  /** @internal the clock of call deadlines, connection waits and backoff: the peer context's */
  get _clock(): Clock {
    return this.healthCtx.clock;
  }

  /**
   * A scope handle addressing peer `id` (this peer's own id: calls run locally, without a frame).
   * Handles without options are cached per id.
   */
  remote(id: string, options?: CallOptions): RemoteScope {
    if (typeof id !== "string" || id === "") invalidArgument("peer.remote: id must be a non-empty string");
    if (options === undefined) {
      let s = this.scopes.get(id);
      if (s === undefined) {
        s = new RemoteScope(this, id, this.defaultCallOptions);
        this.scopes.set(id, s);
      }
      return s;
    }
    return new RemoteScope(this, id, this._resolveCallOptions(options, this.defaultCallOptions));
  }

  /** Calls other peers run here right now, over all links; a cancelled body that has not finished still counts. */
  get inflightCalls(): number {
    return this.slots.count;
  }

  /** Whether a link to peer `id` is up right now. */
  isConnected(id: string): boolean {
    return this.links.has(id);
  }

  /** Ids of the peers linked right now. */
  connectedPeers(): string[] {
    return [...this.links.keys()];
  }

  /** The principal `authenticate` returned for the linked peer `id` (listener side). */
  principalOf(id: string): unknown {
    return this.links.get(id)?.principal;
  }

  /**
   * Close the link to peer `id` (its pending calls fail with `ERR_DISCONNECTED`). A dialer
   * configured to reconnect dials again. Returns whether there was a link.
   */
  disconnect(id: string, reason = "disconnected by peer"): boolean {
    const conn = this.links.get(id);
    if (conn === undefined) return false;
    conn.close(CloseCode.Normal, reason);
    return true;
  }

  /**
   * Attach a protocol under `name`: its handler gets `linkUp` at once for every link already up,
   * then for each new one, `message` for each payload its counterpart sends, and `linkDown` when a
   * link closes. Returns a function that detaches it (no `linkDown` calls). A payload for a name
   * nobody attached is answered once per link and name with an `ERR_NO_FUNCTION` error frame
   * (counted as a protocol error); later ones are dropped and counted in `droppedProtocolFrames`.
   */
  attachProtocol(name: string, handler: ProtocolHandler): () => void {
    if (typeof name !== "string" || name === "" || name.length > 256)
      invalidArgument("attachProtocol: name must be a non-empty string of at most 256 characters");
    if (this.protocols.has(name)) invalidArgument(`attachProtocol: protocol '${name}' is already attached`);
    this.protocols.set(name, handler);
    for (const conn of this.protocolLinks.keys()) this.protocolUp(conn, name, handler);
    return () => {
      if (this.protocols.get(name) !== handler) return;
      this.protocols.delete(name);
      for (const m of this.protocolLinks.values()) m.delete(name);
    };
  }

  /**
   * Close everything: stop dialing and listening, close every link (pending calls fail with
   * `ERR_CLOSED`, incoming calls are cancelled), clear every timer. Resolves once the sockets and
   * the own HTTP server are closed. Idempotent.
   */
  close(): Promise<void> {
    // mark closed synchronously (calls started from now on fail with ERR_CLOSED), shut down next
    if (this.closing === null) this.closing = Promise.resolve().then(() => this.shutdown());
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const conns = [...this.all];
    for (const d of this.dialers) d.stop("peer closed", "ERR_CLOSED");
    this.dialers.clear();
    const waiting = [...this.waiters.values()];
    this.waiters.clear();
    const closed = new RemoteError("ERR_CLOSED", `peer '${this.id}' was closed`);
    for (const set of waiting) for (const w of set) w.onNoLink(closed);
    for (const local of [...this._callHost.localCalls]) local.closed(closed);
    this._callHost.localCalls.clear();
    for (const c of conns) c.close(CloseCode.GoingAway, "peer closed", "ERR_CLOSED");
    const listener = this.listener;
    const serverClosed = listener !== null ? this.closeListener(listener) : Promise.resolve();
    await Promise.all(conns.map((c) => withGrace(c)));
    await serverClosed;
    this.deadlines.clearAll();
    this._refreshStatus();
  }

  private closeListener(l: LinkServer): Promise<void> {
    return l.close();
  }

  // ---------------------------------------------------------------- internals

  /** @internal */
  _resolveCallOptions(o: CallOptions, base: ResolvedCallOptions): ResolvedCallOptions {
    if (typeof o !== "object" || o === null) invalidArgument("call options must be an object");
    if (o.signal !== undefined && !(o.signal instanceof AbortSignal))
      invalidArgument("call options: signal must be an AbortSignal");
    return {
      timeoutMs: checkMs("timeoutMs", o.timeoutMs, base.timeoutMs, true),
      connectTimeoutMs: checkMs("connectTimeoutMs", o.connectTimeoutMs, base.connectTimeoutMs, true),
      signal: o.signal ?? base.signal,
    };
  }

  /** @internal the per-remote `connected` signal */
  _connectedSignal(id: string): Signal<boolean> {
    let s = this.connectedSignals.get(id);
    if (s === undefined) {
      s = signal(this.links.has(id), { name: `peer ${this.id} -> ${id} connected` });
      this.connectedSignals.set(id, s);
      if (this.links.has(id)) this.writeHealth(s, true);
    }
    return s;
  }

  /** @internal */
  _track(conn: Connection, dialer: Dialer): void {
    this.all.add(conn);
    this.dialerOf.set(conn, dialer);
  }

  /** @internal */
  _dialerStopped(d: Dialer, error: RemoteError): void {
    this.dialers.delete(d);
    this.report(error, "connect");
    // calls waiting for a link that can no longer come fail now instead of at their timeout
    if (this.listener === null && this.dialers.size === 0 && this.waiters.size > 0) {
      const waiting = [...this.waiters.values()];
      this.waiters.clear();
      for (const set of waiting) for (const w of set) w.onNoLink(error);
    }
    this.failHopelessWaits();
    this._refreshStatus();
  }

  /** @internal recompute `status` */
  _refreshStatus(): void {
    let st: PeerStatus;
    if (this.closing !== null) st = "closed";
    else if (this.listener !== null || this.links.size > 0) st = "online";
    else {
      st = "offline";
      for (const d of this.dialers) {
        if (d.state === DialState.Connecting && !d.everConnected) st = "connecting";
        else if ((d.state === DialState.Backoff || d.state === DialState.Connecting) && st !== "connecting")
          st = "reconnecting";
      }
    }
    this.writeHealth(this.status, st);
  }

  private writeHealth<T>(sig: Signal<T>, value: T): void {
    try {
      if (!this.healthCtx.disposed) this.healthCtx.set(sig, value);
    } catch (err) {
      this.report(err, "health");
    }
  }

  private report(error: unknown, where: string): void {
    const hook = this.onErrorHook;
    if (hook === undefined) return;
    try {
      hook(error, where);
    } catch {
      // a diagnostics hook that throws is ignored
    }
  }

  private checkOpen(what: string): void {
    if (this.closing !== null)
      throw new RemoteError("ERR_CLOSED", `cannot ${what}: peer '${this.id}' is closed`);
  }

  /**
   * Whether a link to `peerId` may still come: this peer was not started yet (calls made before
   * `listen`/`connect` wait for it), a dialer that is connecting or backing off has not learned its
   * remote's id or learned this one, or an incoming link that claimed this id is in its handshake.
   * Otherwise nothing is making that link and a call to it fails at once.
   */
  private mayLink(peerId: string): boolean {
    if (this.links.has(peerId)) return true;
    if (!this.started) return true;
    for (const d of this.dialers)
      if (
        (d.state === DialState.Connecting || d.state === DialState.Backoff) &&
        (d.remoteId === "" || d.remoteId === peerId)
      )
        return true;
    for (const c of this.all) if (c.state === "handshake" && c.inbound && c.remoteId === peerId) return true;
    return false;
  }

  /** Fail the waiting calls no link can come for any more. */
  private failHopelessWaits(): void {
    for (const [peerId, set] of [...this.waiters]) {
      if (this.mayLink(peerId)) continue;
      this.waiters.delete(peerId);
      const err = this.notLinkedError(peerId);
      for (const w of set) w.onNoLink(err);
    }
  }

  private notLinkedError(peerId: string): RemoteError {
    return new RemoteError(
      "ERR_UNAVAILABLE",
      `peer '${peerId}' is not connected to '${this.id}' and no link to it is being made`,
      { peer: peerId, data: { reason: "not-connected" } },
    );
  }

  private waitForLink(peerId: string, w: LinkWaiter): void {
    if (!this.mayLink(peerId)) {
      w.onNoLink(this.notLinkedError(peerId));
      return;
    }
    let set = this.waiters.get(peerId);
    if (set === undefined) {
      set = new Set();
      this.waiters.set(peerId, set);
    }
    set.add(w);
  }

  private accept(link: Link, req: UpgradeRequest | undefined): void {
    if (this.closing !== null) {
      link.terminate();
      return;
    }
    const conn = new Connection(this._connectionHost, link, true, req);
    this.all.add(conn);
    conn.armHandshakeTimeout(this.connectTimeoutMs, "no hello");
  }

  private onHello(conn: Connection, frame: HelloFrame): void {
    if (frame.limits !== undefined) conn.remoteLimits = { ...this.limits, ...frame.limits };
    if (frame.v !== PROTOCOL_VERSION) {
      const message = `unsupported protocol version ${frame.v} (this peer speaks ${PROTOCOL_VERSION})`;
      // a listener of another version answered our hello: final, like a refusal (no retry loop)
      if (!conn.inbound) this.dialerOf.get(conn)?.refused(new RemoteError("ERR_PROTOCOL", message));
      conn.protocolError("ERR_PROTOCOL", message, true);
      return;
    }
    if (!conn.inbound) {
      // the listener's answer to our hello
      if (frame.peer === this.id) {
        conn.protocolError("ERR_PROTOCOL", `the listener claims our own id '${this.id}'`, true);
        return;
      }
      this.linkUp(conn, frame.peer);
      return;
    }
    if (conn.remoteId !== "") {
      conn.protocolError("ERR_PROTOCOL", "duplicate hello");
      return;
    }
    conn.remoteId = frame.peer; // claimed; the link is registered after authentication
    if (frame.peer === this.id) {
      this.refuse(conn, "ERR_UNAUTHORIZED", `peer id '${frame.peer}' is the listener's own id`);
      return;
    }
    const hook = this.authenticate;
    if (hook === undefined) {
      this.admit(conn, frame.peer);
      return;
    }
    let verdict: unknown;
    try {
      verdict = hook({ peerId: frame.peer, credential: frame.credential, request: conn.request });
    } catch (err) {
      this.refuseThrown(conn, err);
      return;
    }
    if (
      verdict !== null &&
      typeof verdict === "object" &&
      typeof (verdict as PromiseLike<unknown>).then === "function"
    ) {
      (verdict as PromiseLike<unknown>).then(
        (principal) => this.admit(conn, principal),
        (err: unknown) => this.refuseThrown(conn, err),
      );
    } else {
      this.admit(conn, verdict);
    }
  }

  private admit(conn: Connection, principal: unknown): void {
    if (conn.state !== "handshake") return; // closed while authenticating
    if (principal === undefined || principal === null || principal === false) {
      this.refuse(conn, "ERR_UNAUTHORIZED", "authentication refused");
      return;
    }
    // an incoming link never takes over one this peer dialed (the impostor would get its calls),
    // and replaces an incoming one only for the same principal (a reconnect, not a takeover)
    const old = this.links.get(conn.remoteId);
    if (old !== undefined && old !== conn) {
      if (!old.inbound) {
        this.refuse(
          conn,
          "ERR_UNAUTHORIZED",
          `peer id '${conn.remoteId}' is taken by a link this peer dialed; an incoming link cannot replace it`,
        );
        return;
      }
      if (!samePrincipal(old.principal, principal)) {
        this.refuse(
          conn,
          "ERR_UNAUTHORIZED",
          `peer id '${conn.remoteId}' is linked with another principal; only the same principal may replace its link`,
        );
        return;
      }
    }
    conn.principal = principal;
    try {
      conn.send({ type: "hello", v: PROTOCOL_VERSION, peer: this.id, limits: helloLimits(this.limits) });
    } catch (err) {
      this.report(err, "hello");
      conn.close(CloseCode.Protocol, "cannot send hello");
      return;
    }
    this.linkUp(conn, conn.remoteId);
  }

  private refuseThrown(conn: Connection, err: unknown): void {
    this.report(err, "authenticate");
    if (err instanceof RemoteError) this.refuse(conn, "ERR_UNAUTHORIZED", err.message, err.data);
    else this.refuse(conn, "ERR_UNAUTHORIZED", "authentication refused");
  }

  private refuse(conn: Connection, code: "ERR_UNAUTHORIZED", message: string, data?: unknown): void {
    if (conn.state !== "handshake") return;
    const f: ErrorFrame = { type: "error", code, name: "RemoteError", message };
    if (data !== undefined) f.data = data;
    conn.sendError(f);
    conn.close(CloseCode.Policy, truncateReason(`unauthorized: ${message}`));
  }

  private onRefused(conn: Connection, frame: ErrorFrame): void {
    const d = this.dialerOf.get(conn);
    const err = new RemoteError(frame.code, frame.message, { name: frame.name, data: frame.data });
    d?.refused(err);
    conn.close(CloseCode.Normal, `refused: ${frame.message}`);
  }

  private linkUp(conn: Connection, remoteId: string): void {
    // a link that cannot send transport pings (a browser, in memory) beats with ping frames
    conn.markOpen(remoteId, this.heartbeatMs);
    const old = this.links.get(remoteId);
    this.links.set(remoteId, conn);
    if (old !== undefined && old !== conn)
      old.close(CloseCode.Replaced, "replaced by a newer connection from the same peer id");
    this.dialerOf.get(conn)?.opened(conn, remoteId);
    const sig = this.connectedSignals.get(remoteId);
    if (sig !== undefined) this.writeHealth(sig, true);
    this.writeHealth(this.peers, [...this.links.keys()]);
    this._refreshStatus();
    const set = this.waiters.get(remoteId);
    if (set !== undefined) {
      this.waiters.delete(remoteId);
      for (const w of set) w.onLink(conn);
    }
    if (conn.state === "open") {
      this.protocolLinks.set(conn, new Map());
      for (const [name, h] of this.protocols) this.protocolUp(conn, name, h);
    }
    // a dialer just learned its remote's id: calls waiting for another id may have lost their hope
    if (this.waiters.size > 0) this.failHopelessWaits();
  }

  private protocolUp(conn: Connection, name: string, handler: ProtocolHandler): void {
    const m = this.protocolLinks.get(conn);
    if (m === undefined) return;
    const pl: ProtocolLink = {
      peerId: conn.remoteId,
      principal: conn.inbound ? conn.principal : conn.remoteId,
      dialed: !conn.inbound,
      missed: this.unknownProtocols.get(conn)?.has(name) === true,
      send(payload: unknown): boolean {
        if (conn.state !== "open") return false;
        return conn.sendBytes(conn.encode({ type: "protocol", protocol: name, payload }));
      },
    };
    m.set(name, pl);
    try {
      handler.linkUp(pl);
    } catch (err) {
      this.report(err, `protocol ${name}`);
    }
  }

  private onProtocol(conn: Connection, frame: ProtocolFrame): void {
    const name = frame.protocol;
    const handler = this.protocols.get(name);
    const pl = this.protocolLinks.get(conn)?.get(name);
    if (handler === undefined || pl === undefined) {
      let seen = this.unknownProtocols.get(conn);
      if (seen === undefined) this.unknownProtocols.set(conn, (seen = new Set()));
      if (seen.has(name) || seen.size >= 16) {
        this.droppedProtocolFrames++;
        return;
      }
      seen.add(name);
      conn.protocolError(
        "ERR_NO_FUNCTION",
        `no protocol '${name.slice(0, 64)}' is attached on peer '${this.id}'`,
      );
      return;
    }
    try {
      handler.message(pl, frame.payload);
    } catch (err) {
      this.report(err, `protocol ${name}`);
    }
  }

  private onConnectionClosed(conn: Connection): void {
    this.all.delete(conn);
    const plinks = this.protocolLinks.get(conn);
    if (plinks !== undefined) {
      this.protocolLinks.delete(conn);
      for (const [name, pl] of plinks) {
        const h = this.protocols.get(name);
        if (h === undefined) continue;
        try {
          h.linkDown(pl);
        } catch (err) {
          this.report(err, `protocol ${name}`);
        }
      }
    }
    const remoteId = conn.remoteId;
    if (remoteId !== "" && this.links.get(remoteId) === conn) {
      this.links.delete(remoteId);
      const sig = this.connectedSignals.get(remoteId);
      if (sig !== undefined) this.writeHealth(sig, false);
      this.writeHealth(this.peers, [...this.links.keys()]);
    }
    const d = this.dialerOf.get(conn);
    this.dialerOf.delete(conn);
    d?.closed(conn);
    if (this.waiters.size > 0 && this.closing === null) this.failHopelessWaits();
    this._refreshStatus();
  }
}

/** The receive limits a hello announces. */
function helloLimits(l: WireLimits): Partial<WireLimits> {
  const out: Partial<WireLimits> = {};
  for (const k of LIMITS_IN_HELLO) out[k] = l[k];
  return out;
}

/**
 * The largest message a link takes: twice `maxFrameBytes`, so a frame over the limit (from a sender
 * that ignored the limits in our hello) is still read far enough to fail its call alone; beyond
 * that the link closes (1009).
 */
function linkPayloadCap(l: WireLimits): number {
  return Math.min(2 * l.maxFrameBytes, l.maxFrameBytes + 16 * 1024 * 1024);
}

/** Whether two principals are the same: identical, or equal as CBOR (authenticate may build a fresh object per hello). */
function samePrincipal(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  try {
    const x = encodeCbor(a);
    const y = encodeCbor(b);
    return x.length === y.length && x.every((v, i) => v === y[i]);
  } catch {
    return false;
  }
}

function resolveBackoff(r: boolean | ReconnectOptions | undefined): Required<ReconnectOptions> | null {
  if (r === undefined || r === false) return null;
  const o: ReconnectOptions = r === true ? {} : r;
  const out: Required<ReconnectOptions> = {
    initialDelayMs: checkMs("reconnect.initialDelayMs", o.initialDelayMs, 100, false),
    maxDelayMs: checkMs("reconnect.maxDelayMs", o.maxDelayMs, 10_000, false),
    factor: o.factor ?? 2,
    jitter: o.jitter ?? 0.5,
    maxAttempts: o.maxAttempts ?? Number.POSITIVE_INFINITY,
  };
  if (!(out.factor >= 1)) invalidArgument(`reconnect.factor must be >= 1, got ${String(o.factor)}`);
  if (!(out.jitter >= 0 && out.jitter <= 1))
    invalidArgument(`reconnect.jitter must be in [0, 1], got ${String(o.jitter)}`);
  if (!(out.maxAttempts >= 0))
    invalidArgument(`reconnect.maxAttempts must be >= 0, got ${String(o.maxAttempts)}`);
  return out;
}

/** Wait for a closing connection, terminating it if the close handshake takes longer than a grace period. */
async function withGrace(c: Connection): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | null = null;
  await Promise.race([
    c.whenClosed(),
    new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        c.drop("close handshake timed out");
        resolve();
      }, CLOSE_GRACE_MS);
    }),
  ]);
  if (timer !== null) clearTimeout(timer);
  await c.whenClosed();
}
