/**
 * The shapes of Node's HTTP objects that spindel's public types mention, written structurally: a
 * `node:http` `IncomingMessage` is an {@link UpgradeRequest} and an `http`/`https` `Server` is an
 * {@link AttachableServer}, but a project that type-checks against `spindel/distributed` needs
 * neither `@types/node` nor `@types/ws` (a browser project has neither).
 *
 * @module
 */

/** The HTTP upgrade request of an inbound link (a Node `http.IncomingMessage` is one). */
export interface UpgradeRequest {
  /** The request target (path and query). */
  readonly url?: string | undefined;
  /** The HTTP method (`GET`). */
  readonly method?: string | undefined;
  /** The request headers, lower-case names (`cookie`, `origin`, `authorization`, …). */
  readonly headers: { readonly [name: string]: string | string[] | undefined };
  /** The underlying connection (its remote address). */
  readonly socket?: { readonly remoteAddress?: string | undefined } | null | undefined;
}

/**
 * An HTTP(S) server a listening peer attaches to (a Node `http.Server` or `https.Server` is one):
 * the peer adds an `upgrade` listener and removes it on close.
 */
export interface AttachableServer {
  /** Adds an `upgrade` listener. */
  on(event: "upgrade", listener: (request: UpgradeRequest, socket: unknown, head: unknown) => void): unknown;
  /** Removes an `upgrade` listener. */
  off(event: "upgrade", listener: (request: UpgradeRequest, socket: unknown, head: unknown) => void): unknown;
  /** The `upgrade` listeners (with others, a peer leaves other paths to them). */
  listeners(event: "upgrade"): unknown[];
}
