/**
 * The browser transport: client sockets are the browser's own WebSocket; a browser peer cannot
 * listen. Importing this module installs it.
 * @module
 */
import type { WebSocket as WsSocket } from "ws";
import { BrowserSocket } from "./browser-socket.js";
import { installTransport, type Transport } from "./transport.js";

/** The browser's WebSocket (headers, frame limits and handshake timeouts are the browser's). */
export const browserTransport: Transport = {
  name: "browser",
  wsPings: false,
  connect: (url, opts) => {
    if (opts.headers !== undefined && Object.keys(opts.headers).length > 0)
      throw new Error("a page cannot set WebSocket headers: send a credential in the hello instead");
    return new BrowserSocket(url) as unknown as WsSocket;
  },
  server: null,
};

installTransport(browserTransport);
