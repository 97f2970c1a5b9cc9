/**
 * `spindel/distributed` in browsers (the `browser` export condition): the same API, with peers
 * that connect through the browser's WebSocket. `Peer.listen` is not available there.
 * @module
 */
import "./transport-browser.js";

export * from "./api.js";
