/**
 * The transport seam. A session (`Connection`) runs over a {@link Link}: send bytes, close, and
 * events for open, message and close. It never sees a socket. A {@link LinkTransport} makes links:
 * it dials a URL and (where the platform can) listens. Adapters: `ws` on Node
 * (`adapters/ws-node.ts`), the browser `WebSocket` (`adapters/websocket.ts`), and an in-memory,
 * seeded, fault-injecting network for tests and simulation (`adapters/memory.ts`).
 * @module
 */
import type { AttachableServer, UpgradeRequest } from "./link-socket.js";

/** `Link.readyState`: as WebSocket's. */
export const LinkState = {
  /** Dialing: not open yet. */
  Connecting: 0,
  /** Open: `send` delivers. */
  Open: 1,
  /** `close` was called; the close event has not come yet. */
  Closing: 2,
  /** Closed: the close event was delivered. */
  Closed: 3,
} as const;

/** What a link reports to its session. Each is called on a later turn than the action causing it. */
export interface LinkEvents {
  /** A dialed link is open (a link handed to a listener's `accept` is open already). */
  open(): void;
  /** One whole message. A string is a text message (the session refuses those). */
  message(data: Uint8Array | string): void;
  /** The transport's own heartbeat answered (only links with `canPing`). */
  pong(): void;
  /** Something went wrong; `close` follows. */
  error(error: unknown): void;
  /** The link is closed (once, always last). */
  close(code: number, reason: string): void;
}

/** One bidirectional, ordered, message-oriented link to another endpoint. */
export interface Link {
  /** 0 connecting, 1 open, 2 closing, 3 closed ({@link LinkState}). */
  readonly readyState: number;
  /** Bytes accepted by `send` and not yet handed to the network. */
  readonly bufferedAmount: number;
  /** Whether `ping` sends a transport-level heartbeat answered by a `pong` event. */
  readonly canPing: boolean;
  /** Start delivering events to `events` (called once, right after the link is made or accepted). */
  start(events: LinkEvents): void;
  /** Send one binary message (only while open). */
  send(bytes: Uint8Array): void;
  /** Hand buffered writes to the network now (write coalescing), so `bufferedAmount` is judged fairly. */
  flush(): void;
  /** A transport-level heartbeat (no-op when `canPing` is false). */
  ping(): void;
  /** Close with a code and a reason (at most 123 bytes); the close event follows. */
  close(code: number, reason: string): void;
  /** Drop at once; the close event (1006) is delivered now or soon, without a close handshake. */
  terminate(): void;
}

/** What a dialer passes to {@link LinkTransport.dial}. */
export interface DialLinkOptions {
  /** Largest message accepted, in bytes. */
  maxPayload: number;
  /** Opening handshake bound in ms (undefined: none). */
  handshakeTimeout: number | undefined;
  /** Extra HTTP headers of an upgrade request (where the transport has one). */
  headers: Record<string, string> | undefined;
  /** The dialing peer's id (the in-memory network uses it as the link's local address). */
  localId?: string;
}

/** A new inbound link, as a listener's `accept` gets it. */
export interface AcceptedLink {
  /** The link (open). */
  readonly link: Link;
  /** The HTTP upgrade request, when the transport has one. */
  readonly request: UpgradeRequest | undefined;
}

/** What a peer passes to {@link LinkTransport.listen}. */
export interface ListenLinkOptions {
  /** The listening peer's id (the in-memory network's address). */
  peerId: string;
  /** Largest message accepted, in bytes. */
  maxPayload: number;
  /** Host to bind (the in-memory network ignores it: its address is the peer id). */
  host?: string;
  /** Port (default 0). */
  port?: number;
  /** An existing HTTP server to attach to (Node). */
  server?: AttachableServer;
  /** Only upgrade requests for this path. */
  path?: string;
  /** Only these `Origin`s (requests without one pass). */
  origins?: readonly string[];
  /** Close a connection that sent no upgrade request within this many ms (default 10,000). */
  upgradeTimeoutMs?: number;
  /** Most connections (upgraded or not) open at once; more are refused (default: unbounded). */
  maxConnections?: number;
  /** Accept a new link. */
  accept(accepted: AcceptedLink): void;
  /** Whether the peer is closing (upgrades are refused with 503 then). */
  isClosing(): boolean;
  /** Diagnostics. */
  report(error: unknown, where: string): void;
}

/** A listening endpoint. */
export interface LinkServer {
  /** The URL to dial it (undefined until bound). */
  readonly url: string | undefined;
  /** Stop accepting and release what listening opened. */
  close(): Promise<void>;
}

/** Makes links: the platform under a peer. */
export interface LinkTransport {
  /** For messages (`"ws"`, `"browser"`, `"memory"`). */
  readonly name: string;
  /** Whether a URL is one this transport dials. */
  accepts(url: string): boolean;
  /** Open a link to a listening endpoint (connecting). */
  dial(url: string, opts: DialLinkOptions): Link;
  /** Listen (null where the platform cannot, as in a browser). */
  readonly listen: ((opts: ListenLinkOptions) => Promise<LinkServer>) | null;
}
