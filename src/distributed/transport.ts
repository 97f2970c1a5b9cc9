/**
 * The platform's default {@link LinkTransport}: the entry point installs one — `spindel/distributed`
 * on Node installs `ws` (`transport-node.ts`), its browser build installs the page's WebSocket
 * (`transport-browser.ts`) — so the peer itself imports neither. A peer given `transport` in its
 * options (the in-memory network of `spindel/distributed/testing`) uses that one instead.
 * @module
 */
import { RemoteError } from "./errors.js";
import type { LinkTransport } from "./net/link.js";

export type { LinkTransport } from "./net/link.js";

let installed: LinkTransport | null = null;

/** Install the platform's transport (done by the entry point). */
export function installTransport(t: LinkTransport): void {
  installed = t;
}

/** The installed transport. Throws when none is (a module imported without its entry point). */
export function transport(): LinkTransport {
  if (installed === null)
    throw new RemoteError(
      "ERR_UNAVAILABLE",
      "no transport installed: import Peer from 'spindel/distributed', not from an internal module",
    );
  return installed;
}
