/**
 * The platform under a peer: how to open a client WebSocket and (on Node) how to serve. The entry
 * point installs one — `spindel/distributed` on Node installs `ws` and `node:http`
 * (`transport-node.ts`), the browser build of the same entry installs the browser's own WebSocket
 * (`transport-browser.ts`) — so the peer itself imports neither.
 * @module
 */
import type { createServer } from "node:http";
import type { WebSocket, WebSocketServer } from "ws";
import { RemoteError } from "./errors.js";

/** Options of a client socket (what `ws` takes; a browser ignores all but the URL). */
export interface ClientSocketOptions {
  /** Largest frame accepted, in bytes. */
  maxPayload: number;
  /** Opening handshake timeout in ms. */
  handshakeTimeout: number | undefined;
  /** Extra HTTP headers of the upgrade request. */
  headers: Record<string, string> | undefined;
}

/** What a peer needs from the platform. */
export interface Transport {
  /** Which one (for messages). */
  readonly name: "node" | "browser";
  /** Whether its client sockets can send WebSocket pings (else heartbeats are `ping` frames). */
  readonly wsPings: boolean;
  /** Open a client socket with the `ws` surface the connection uses. */
  connect(url: string, opts: ClientSocketOptions): WebSocket;
  /** Serving (Node only): `ws`'s server and `http.createServer`; null where a peer cannot listen. */
  readonly server: {
    readonly WebSocketServer: typeof WebSocketServer;
    readonly createServer: typeof createServer;
  } | null;
}

let installed: Transport | null = null;

/** Install the platform's transport (done by the entry point). */
export function installTransport(t: Transport): void {
  installed = t;
}

/** The installed transport. Throws when none is (a module imported without its entry point). */
export function transport(): Transport {
  if (installed === null)
    throw new RemoteError(
      "ERR_UNAVAILABLE",
      "no transport installed: import Peer from 'spindel/distributed', not from an internal module",
    );
  return installed;
}
