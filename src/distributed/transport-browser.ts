/**
 * The browser transport: links over the page's own WebSocket; a browser peer cannot listen.
 * Importing this module installs it.
 * @module
 */
import { webSocketTransport } from "./net/adapters/websocket.js";
import { installTransport } from "./transport.js";

/** The browser's WebSocket (headers, frame limits and handshake timeouts are the browser's). */
export const browserTransport = webSocketTransport;

installTransport(browserTransport);
